//go:build unix

package harness

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockPort reserves port p across processes with a non-blocking exclusive
// flock on a file named after it. ok is false when another live process holds
// it. If the lock directory cannot be used, the port is accepted without a
// cross-process reservation (f is nil).
func lockPort(p int) (f *os.File, ok bool) {
	dir := portLockDir()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, true
	}
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)+".lock"), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, false
	}
	return f, true
}
