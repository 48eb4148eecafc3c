package harness

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Port allocation.
//
// Nodes are killed and restarted on the same ports, so a port must stay free
// for a whole test even while its node is down. Two hazards are avoided:
//
//   - The kernel's ephemeral range (ip_local_port_range) is also used for the
//     source ports of outgoing connections; a port taken from it could be
//     grabbed by some client connection while its node is down. Ports are
//     therefore picked below that range.
//   - Several test binaries (one per package) run at the same time. Each
//     handed-out port is reserved across processes by an advisory lock
//     (flock) on a file in a shared directory, held until the process exits,
//     and never handed out twice inside one process.

const (
	// portFloor is the lowest port handed out; below it live many
	// well-known services.
	portFloor = 20000
	// defaultEphemeralLow is used when ip_local_port_range cannot be read.
	defaultEphemeralLow = 32768
)

var ports struct {
	mu     sync.Mutex
	inited bool
	lo, hi int // candidate range [lo, hi)
	next   int // next candidate offset from lo
	used   map[int]bool
	locks  []*os.File // kept open: the reservations live as long as the process
}

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free when
// checked and are reserved for this process: no other call in this process,
// and no other process using this package, gets them. The ports lie below the
// kernel's ephemeral range where possible, so outgoing connections do not take
// them while a node is down.
func FreePorts(n int) ([]int, error) {
	if n < 0 {
		return nil, fmt.Errorf("harness: FreePorts: negative count %d", n)
	}
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if !ports.inited {
		initPortRange()
	}
	out := make([]int, 0, n)
	size := ports.hi - ports.lo
	for tries := 0; len(out) < n && tries < size; tries++ {
		p := ports.lo + ports.next%size
		ports.next++
		if ports.used[p] {
			continue
		}
		if !portFree(p) {
			continue
		}
		f, ok := lockPort(p)
		if !ok {
			continue
		}
		// Check again now that the reservation is ours: some process that
		// does not use this package may have bound it in between.
		if !portFree(p) {
			if f != nil {
				_ = f.Close()
			}
			continue
		}
		ports.used[p] = true
		if f != nil {
			ports.locks = append(ports.locks, f)
		}
		out = append(out, p)
	}
	if len(out) < n {
		// Fall back to kernel-chosen ports for the rest.
		for len(out) < n {
			p, err := kernelPort()
			if err != nil {
				return nil, fmt.Errorf("harness: FreePorts: %w", err)
			}
			if ports.used[p] {
				continue
			}
			ports.used[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// initPortRange picks the candidate range and a random starting point in it,
// so concurrently started test processes begin far apart. Callers hold ports.mu.
func initPortRange() {
	ports.inited = true
	ports.used = make(map[int]bool)
	ports.lo, ports.hi = portFloor, ephemeralLow()
	if ports.hi-ports.lo < 1000 {
		// The ephemeral range starts too low to leave room below it.
		ports.hi = 65536
	}
	ports.next = rand.IntN(ports.hi - ports.lo)
}

// ephemeralLow returns the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultEphemeralLow
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return defaultEphemeralLow
	}
	v, err := strconv.Atoi(f[0])
	if err != nil || v < 1024 || v > 65535 {
		return defaultEphemeralLow
	}
	return v
}

// portFree reports whether 127.0.0.1:p can be bound for TCP right now.
func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// kernelPort asks the kernel for a free port.
func kernelPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen on 127.0.0.1:0: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener address is not TCP")
	}
	return addr.Port, nil
}

// portLockDir is the directory holding the cross-process port reservations.
func portLockDir() string {
	return filepath.Join(os.TempDir(), "pvecfs-harness-ports")
}
