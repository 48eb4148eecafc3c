//go:build !linux

package main

import "time"

func fsType(string) string { return "" }

func procCPU(int) (time.Duration, bool) { return 0, false }

func selfCPU() (time.Duration, bool) { return 0, false }
