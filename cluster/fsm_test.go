package cluster

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestIndexWaiterWakesEachWaiterAtItsIndex(t *testing.T) {
	w := newIndexWaiter()
	var mu sync.Mutex
	var woke []uint64
	var wg sync.WaitGroup
	for _, i := range []uint64{3, 1, 2, 5} {
		wg.Add(1)
		go func(i uint64) {
			defer wg.Done()
			if err := w.wait(context.Background(), i, nil); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			woke = append(woke, i)
			mu.Unlock()
		}(i)
	}
	// wait until all four are registered
	for {
		w.mu.Lock()
		n := len(w.waiters)
		w.mu.Unlock()
		if n == 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.set(2)
	for {
		w.mu.Lock()
		n := len(w.waiters)
		w.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	if len(woke) > 2 {
		t.Fatalf("woke too many before index 3: %v", woke)
	}
	mu.Unlock()
	w.set(5)
	wg.Wait()
	if len(woke) != 4 || w.get() != 5 {
		t.Fatalf("woke %v, index %d", woke, w.get())
	}
	// an index already reached returns at once; a cancelled wait unregisters
	if err := w.wait(context.Background(), 4, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.wait(ctx, 9, nil); err == nil {
		t.Fatal("cancelled wait returned nil")
	}
	if len(w.waiters) != 0 {
		t.Fatalf("cancelled waiter left behind: %d", len(w.waiters))
	}
	// entries outside the FSM are seen through the other index
	var other uint64 = 12
	if err := w.wait(context.Background(), 10, func() uint64 { return other }); err != nil {
		t.Fatal(err)
	}
}
