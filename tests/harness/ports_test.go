package harness

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
)

func checkPorts(t *testing.T, ps []int, seen map[int]bool) {
	t.Helper()
	for _, p := range ps {
		if p < 1024 || p > 65535 {
			t.Fatalf("port %d out of range", p)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}

func TestFreePortsDistinctAndBindable(t *testing.T) {
	seen := map[int]bool{}
	ps, err := FreePorts(40)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 40 {
		t.Fatalf("got %d ports", len(ps))
	}
	checkPorts(t, ps, seen)
	low := ephemeralLow()
	for _, p := range ps {
		if low-portFloor >= 1000 && (p < portFloor || p >= low) {
			t.Errorf("port %d outside [%d,%d): may collide with outgoing connections", p, portFloor, low)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d not bindable: %v", p, err)
		}
		_ = l.Close()
	}
	more, err := FreePorts(10)
	if err != nil {
		t.Fatal(err)
	}
	checkPorts(t, more, seen)
	if z, err := FreePorts(0); err != nil || len(z) != 0 {
		t.Fatalf("FreePorts(0) = %v, %v", z, err)
	}
	if _, err := FreePorts(-1); err == nil {
		t.Fatal("FreePorts(-1): no error")
	}
}

func TestFreePortsConcurrent(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ps, err := FreePorts(10)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range ps {
				if seen[p] {
					t.Errorf("port %d handed out twice", p)
				}
				seen[p] = true
			}
		})
	}
	wg.Wait()
}

// TestFreePortsAcrossProcesses checks that ports reserved by another live
// process cannot be reserved here, and can once it has exited.
func TestFreePortsAcrossProcesses(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), portsHelperEnv+"=20")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("helper output: %v", err)
	}
	var theirs []int
	if err := json.Unmarshal(line, &theirs); err != nil || len(theirs) != 20 {
		t.Fatalf("helper ports %q: %v", line, err)
	}
	for _, p := range theirs {
		if f, ok := lockPort(p); ok {
			if f != nil {
				_ = f.Close()
			}
			t.Fatalf("port %d reserved by the helper could be reserved again", p)
		}
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	for _, p := range theirs {
		f, ok := lockPort(p)
		if !ok {
			t.Fatalf("port %d still reserved after the helper exited", p)
		}
		if f != nil {
			_ = f.Close()
		}
	}
}
