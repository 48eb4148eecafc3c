package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// restBench is part (b): 1 KiB raw file writes through PUT
// /api2/json/pvecfs/files, clients spread round-robin over the nodes, each
// with its own keep-alive connection.
type restBench struct {
	c       *pveCluster
	content string
	next    int // first client number of the next row (paths bench/<client>/<i>)
}

// measure runs one row with n clients, then checks that the nodes converge
// and the last write of the first client reads back from another node.
func (b *restBench) measure(ctx context.Context, o *options, n int) (loadResult, error) {
	clients := make([]*apiClient, n)
	for k := range clients {
		clients[k] = b.c.nodes[k%len(b.c.nodes)].ctl.withTicket(1)
	}
	prefix := b.next
	b.next += n
	last := make([]atomic.Int64, n) // last acknowledged seq + 1 per client
	r, err := runLoad(ctx, "(b) pvecfs REST PUT", n, o.warmup, o.duration, b.c.cpu, func(ctx context.Context, k, seq int) error {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err := clients[k].putFile(octx, benchPath(prefix+k, seq), b.content)
		if err == nil {
			last[k].Store(int64(seq) + 1)
		}
		return err
	})
	for _, cl := range clients {
		cl.closeIdle()
	}
	if err != nil {
		return r, err
	}
	if err := verifyWrites(ctx, b.c, prefix, int(last[0].Load())-1, b.content); err != nil {
		return r, fmt.Errorf("%s at %d clients: %w", r.Name, n, err)
	}
	return r, nil
}

// cpu samples the CPU time of the node processes and of this process.
func (c *pveCluster) cpu() cpuSample {
	var s cpuSample
	for _, d := range c.nodes {
		t, ok := procCPU(d.pid())
		if !ok {
			return s
		}
		s.nodes += t
	}
	self, ok := selfCPU()
	s.self, s.ok = self, ok
	return s
}

func benchPath(client, seq int) string {
	return "bench/" + strconv.Itoa(client) + "/" + strconv.Itoa(seq)
}

// verifyWrites checks that the nodes converge on one tree and that the last
// acknowledged write of client prefix (which went to the first node) reads
// back from another node.
func verifyWrites(ctx context.Context, c *pveCluster, client, seq int, content string) error {
	if err := waitCaughtUp(ctx, c.nodes, 60*time.Second); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if seq < 0 {
		return errors.New("verify: client 0 has no acknowledged write")
	}
	p := benchPath(client, seq)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := c.nodes[len(c.nodes)-1].ctl.getFile(rctx, p)
	if err != nil {
		return fmt.Errorf("verify: read back %s: %w", p, err)
	}
	if got != content {
		return fmt.Errorf("verify: %s on %s has %d bytes, not the %d written", p, c.nodes[len(c.nodes)-1].name, len(got), len(content))
	}
	return nil
}

// failoverResult holds part (c).
type failoverResult struct {
	Failover []time.Duration // SIGKILL of the leader → next acknowledged write
	Elected  []time.Duration // SIGKILL of the leader → a survivor names a new leader
	CatchUp  []time.Duration // restart of the killed node → all checksums equal
}

// benchFailover runs part (c).
func benchFailover(ctx context.Context, o *options, c *pveCluster) (failoverResult, error) {
	var res failoverResult
	for trial := 0; trial < o.trials; trial++ {
		leader, err := c.waitStable(ctx, c.nodes, 60*time.Second)
		if err != nil {
			return res, fmt.Errorf("failover trial %d: %w", trial+1, err)
		}
		var survivors []*daemon
		for _, d := range c.nodes {
			if d != leader {
				survivors = append(survivors, d)
			}
		}
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		elected := make(chan time.Time, 1)
		go pollNewLeader(pctx, survivors, leader.name, elected)
		t0 := time.Now()
		exited, err := leader.signal(syscall.SIGKILL)
		if err != nil {
			pcancel()
			return res, fmt.Errorf("failover trial %d: %w", trial+1, err)
		}
		t1, err := firstAck(ctx, survivors, trial, 30*time.Second)
		if err != nil {
			pcancel()
			return res, fmt.Errorf("failover trial %d (killed leader %s): %w", trial+1, leader.name, err)
		}
		res.Failover = append(res.Failover, t1.Sub(t0))
		if te, ok := <-elected; ok {
			res.Elected = append(res.Elected, te.Sub(t0))
		}
		pcancel()
		<-exited
		leader.ctl.closeIdle()
		r0 := time.Now()
		if err := leader.start(); err != nil {
			return res, fmt.Errorf("failover trial %d: restart: %w", trial+1, err)
		}
		if err := leader.waitReady(ctx, 60*time.Second); err != nil {
			return res, fmt.Errorf("failover trial %d: restart: %w", trial+1, err)
		}
		if err := waitCaughtUp(ctx, c.nodes, 60*time.Second); err != nil {
			return res, fmt.Errorf("failover trial %d: after restarting %s: %w", trial+1, leader.name, err)
		}
		res.CatchUp = append(res.CatchUp, time.Since(r0))
		if o.verbose {
			fmt.Printf("  failover trial %d: killed %s, next ack after %s, caught up %s after restart\n",
				trial+1, leader.name, fmtDur(res.Failover[trial]), fmtDur(res.CatchUp[trial]))
		}
	}
	return res, nil
}

// pollNewLeader asks the nodes for the cluster status every 10 ms, in
// parallel, and sends the time one first names a leader other than old; it
// closes out when it gives up (ctx done).
func pollNewLeader(ctx context.Context, nodes []*daemon, old string, out chan<- time.Time) {
	defer close(out)
	found := make(chan time.Time, len(nodes))
	var wg sync.WaitGroup
	for _, d := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				sctx, cancel := context.WithTimeout(ctx, time.Second)
				st, err := d.ctl.status(sctx)
				cancel()
				if err == nil && st.Leader != "" && st.Leader != old {
					found <- time.Now()
					return
				}
				if sleepCtx(ctx, 10*time.Millisecond) != nil {
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(found)
	}()
	if t, ok := <-found; ok {
		out <- t
	}
}

// firstAck starts a PUT every 10 ms, round-robin over nodes (several may be
// in flight, so one stuck request does not hide the recovery), and returns
// the time the first one is acknowledged.
func firstAck(ctx context.Context, nodes []*daemon, trial int, timeout time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	const maxInFlight = 64
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		lastErr error
		acked   = make(chan time.Time, 1)
		sem     = make(chan struct{}, maxInFlight)
		tick    = time.NewTicker(10 * time.Millisecond)
	)
	defer tick.Stop()
	defer wg.Wait()
	defer cancel()
	content := "failover trial " + strconv.Itoa(trial) + "\n"
	for i := 0; ; i++ {
		select {
		case sem <- struct{}{}:
			d := nodes[i%len(nodes)]
			path := fmt.Sprintf("bench/failover/%d/%d", trial, i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				actx, acancel := context.WithTimeout(ctx, 5*time.Second)
				defer acancel()
				err := d.ctl.putFile(actx, path, content)
				if err == nil {
					select {
					case acked <- time.Now():
					default:
					}
					return
				}
				if ctx.Err() == nil {
					mu.Lock()
					lastErr = err
					mu.Unlock()
				}
			}()
		default: // all attempts in flight: wait for the next tick
		}
		select {
		case t := <-acked:
			return t, nil
		case <-ctx.Done():
			mu.Lock()
			defer mu.Unlock()
			return time.Time{}, fmt.Errorf("no acknowledged write within %s: %w (last error: %v)", timeout, ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// waitCaughtUp waits until a linearizable checksum read answers the same on
// every node.
func waitCaughtUp(ctx context.Context, nodes []*daemon, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		last = sameChecksum(ctx, nodes)
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("checksums not equal after %s: %w", timeout, last)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return fmt.Errorf("wait for equal checksums: %w (last: %v)", err, last)
		}
	}
}

func sameChecksum(ctx context.Context, nodes []*daemon) error {
	sums := make([]string, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, d := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			sums[i], errs[i] = d.ctl.checksum(cctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i := range sums[1:] {
		if sums[i+1] != sums[0] {
			return fmt.Errorf("%s has %s, %s has %s", nodes[0].name, sums[0], nodes[i+1].name, sums[i+1])
		}
	}
	return nil
}
