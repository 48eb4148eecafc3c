package cluster_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvecfs/pvecfs/tests/harness"
)

// chaosDuration is how long the nemesis runs: 20 s in `make test`,
// longer with PVECFS_CHAOS_DURATION (e.g. `make chaos`).
func chaosDuration(t *testing.T) time.Duration {
	if v := os.Getenv("PVECFS_CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PVECFS_CHAOS_DURATION: %v", err)
		}
		return d
	}
	return 20 * time.Second
}

// TestChaosNoAcknowledgedWriteLost writes through random nodes while a
// nemesis SIGKILLs and restarts random nodes (the leader more often). At the
// end every acknowledged write must be on every node, byte for byte, and
// the trees must be identical.
func TestChaosNoAcknowledgedWriteLost(t *testing.T) {
	skipShort(t)
	dur := chaosDuration(t)
	ctx, cancel := context.WithTimeout(context.Background(), dur+4*time.Minute)
	defer cancel()
	c := harness.NewCluster(t, 3, harness.WithForm())
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	t.Logf("chaos for %v", dur)

	type ack struct{ path, content string }
	var (
		mu      sync.Mutex
		acked   []ack
		unknown int64
		stop    atomic.Bool
	)
	// clients are made once per node and reused; a node's client is
	// re-created after a restart (its ticket stays valid: same cluster key)
	clients := make([]*harness.Client, len(c.Nodes))
	for i, n := range c.Nodes {
		clients[i] = root(ctx, t, n)
	}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w) + time.Now().UnixNano()))
			for i := 0; !stop.Load(); i++ {
				n := r.Intn(len(c.Nodes))
				path := fmt.Sprintf("chaos/w%d/%d", w, i)
				content := fmt.Sprintf("writer %d write %d\n", w, i)
				wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
				resp, err := put(wctx, clients[n], path, content)
				wcancel()
				switch {
				case err == nil && resp.Status == 200:
					mu.Lock()
					acked = append(acked, ack{path, content})
					mu.Unlock()
				default:
					atomic.AddInt64(&unknown, 1)
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	// nemesis
	deadline := time.Now().Add(dur)
	kills := 0
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(1500+rng.Intn(2000)) * time.Millisecond)
		victim := c.Nodes[rng.Intn(len(c.Nodes))]
		if rng.Intn(2) == 0 {
			if l, err := c.Leader(ctx); err == nil {
				victim = l
			}
		}
		if err := victim.Kill(); err != nil {
			t.Fatalf("kill %s: %v", victim.Name, err)
		}
		kills++
		time.Sleep(time.Duration(300+rng.Intn(1500)) * time.Millisecond)
		if err := victim.Restart(ctx); err != nil {
			t.Fatalf("restart %s: %v", victim.Name, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d kills, %d acknowledged writes, %d failed or unknown", kills, len(acked), unknown)
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged during the chaos run")
	}
	if err := c.WaitMembers(ctx, c.Nodes); err != nil {
		t.Fatal(err)
	}
	sameTrees(ctx, t, c, c.Nodes)
	for _, n := range c.Nodes {
		cl := root(ctx, t, n)
		missing := 0
		for _, a := range acked {
			got, st := cat(ctx, t, cl, a.path)
			if st != 200 || got != a.content {
				missing++
				if missing <= 5 {
					t.Errorf("%s: acknowledged write %s lost or changed: %d %q", n.Name, a.path, st, got)
				}
			}
		}
		if missing > 0 {
			t.Fatalf("%s: %d of %d acknowledged writes lost", n.Name, missing, len(acked))
		}
	}
}
