//go:build !linux

package harness

import "syscall"

// sysProcAttr has nothing to add on this platform.
func sysProcAttr() *syscall.SysProcAttr { return nil }
