//go:build linux

package main

import "syscall"

// sysProcAttr makes the daemons die with the benchmark.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
