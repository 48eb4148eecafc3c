package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// opFunc performs one operation for client (0-based index within the run)
// with its per-client sequence number seq.
type opFunc func(ctx context.Context, client, seq int) error

// loadResult is one measured row.
type loadResult struct {
	Name     string
	Clients  int
	Ops      int             // successful operations completed inside the window
	Errors   int             // failed operations completed inside the window
	Window   time.Duration   // length of the measurement window
	Lat      []time.Duration // latencies of the successful operations, sorted
	FirstErr error
	// CPU used during the window, in cores: by the nodes' processes and by
	// this process (load generator; for (a) also the in-process nodes).
	CPUNodes, CPUSelf float64
	CPUOK             bool
}

// cpuSample is the CPU time used so far by the nodes and by this process.
type cpuSample struct {
	nodes, self time.Duration
	ok          bool
}

// cpuMeter samples CPU use; nil means not measured.
type cpuMeter func() cpuSample

// Rate is successful operations per second over the window.
func (r loadResult) Rate() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Window.Seconds()
}

// P returns the p-quantile (0 < p <= 1) of the latencies, nearest rank.
func (r loadResult) P(p float64) time.Duration { return quantile(r.Lat, p) }

// quantile returns the nearest-rank p-quantile of sorted durations (0 if none).
func quantile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	i := int(float64(n)*p+0.999999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= n {
		i = n - 1
	}
	return sorted[i]
}

// runLoad runs op in a closed loop from clients goroutines. Operations that
// complete during the first warmup are discarded; those completing in the
// following window of length dur are counted. No new operation starts after
// the window ends; runLoad waits for the stragglers (which op must bound).
func runLoad(ctx context.Context, name string, clients int, warmup, dur time.Duration, meter cpuMeter, op opFunc) (loadResult, error) {
	res := loadResult{Name: name, Clients: clients, Window: dur}
	if clients < 1 {
		return res, fmt.Errorf("%s: need at least one client, got %d", name, clients)
	}
	start := time.Now()
	winStart, winEnd := start.Add(warmup), start.Add(warmup+dur)
	type perClient struct {
		lat      []time.Duration
		errs     int
		firstErr error
	}
	per := make([]perClient, clients)
	var wg sync.WaitGroup
	if meter != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sleepCtx(ctx, time.Until(winStart)) != nil {
				return
			}
			a := meter()
			if sleepCtx(ctx, time.Until(winEnd)) != nil {
				return
			}
			b := meter()
			if a.ok && b.ok {
				sec := b.self.Seconds() - a.self.Seconds()
				res.CPUNodes = (b.nodes - a.nodes).Seconds() / winEnd.Sub(winStart).Seconds()
				res.CPUSelf = sec / winEnd.Sub(winStart).Seconds()
				res.CPUOK = true
			}
		}()
	}
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			pc := &per[c]
			for seq := 0; ctx.Err() == nil; seq++ {
				t0 := time.Now()
				if !t0.Before(winEnd) {
					return
				}
				err := op(ctx, c, seq)
				t1 := time.Now()
				if t1.Before(winStart) || !t1.Before(winEnd) {
					if err != nil && pc.firstErr == nil && ctx.Err() == nil {
						pc.firstErr = err
					}
					continue
				}
				if err != nil {
					pc.errs++
					if pc.firstErr == nil {
						pc.firstErr = err
					}
					continue
				}
				pc.lat = append(pc.lat, t1.Sub(t0))
			}
		}(c)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	for _, pc := range per {
		res.Lat = append(res.Lat, pc.lat...)
		res.Errors += pc.errs
		if res.FirstErr == nil && pc.firstErr != nil {
			res.FirstErr = pc.firstErr
		}
	}
	slices.Sort(res.Lat)
	res.Ops = len(res.Lat)
	if res.Ops == 0 {
		err := res.FirstErr
		if err == nil {
			err = errors.New("no operation completed")
		}
		return res, fmt.Errorf("%s: no successful operation in the window (%d errors): %w", name, res.Errors, err)
	}
	return res, nil
}

// durationStats summarises a set of durations.
type durationStats struct {
	N                int
	Median, Min, Max time.Duration
}

func summarize(ds []time.Duration) durationStats {
	s := slices.Clone(ds)
	slices.Sort(s)
	st := durationStats{N: len(s)}
	if len(s) == 0 {
		return st
	}
	st.Min, st.Max = s[0], s[len(s)-1]
	if len(s)%2 == 1 {
		st.Median = s[len(s)/2]
	} else {
		st.Median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return st
}
