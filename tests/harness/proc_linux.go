//go:build linux

package harness

import "syscall"

// sysProcAttr makes child processes die with the test process, so a test
// binary killed by a timeout leaves no daemons behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
