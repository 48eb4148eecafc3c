package compat

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
)

// flow runs the numbered steps of one client flow in order, each as a
// subtest. Steps do not stop at the first failure, so one run reports every
// step that fails; a step whose prerequisite failed fails too, naming it.
type flow struct {
	t    *testing.T
	done map[string]bool // step name -> passed
}

func newFlow(t *testing.T) *flow { return &flow{t: t, done: make(map[string]bool)} }

// step runs fn as the subtest name after checking that every step in needs
// passed. A panic inside fn (a client's decoder choking on a wrong JSON type
// panics in go-proxmox) fails the step instead of killing the test binary.
func (f *flow) step(name string, needs []string, fn func(t *testing.T)) bool {
	f.t.Helper()
	ok := f.t.Run(name, func(t *testing.T) {
		var missing []string
		for _, n := range needs {
			if !f.done[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			t.Fatalf("not run: prerequisite step(s) %s failed", strings.Join(missing, ", "))
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("client panicked: %v%s", r, panicSite(string(debug.Stack())))
				}
			}()
			fn(t)
		}()
	})
	f.done[name] = ok
	return ok
}

// eq reports a mismatch of a single value.
func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, fmtv(got), fmtv(want))
	}
}

func fmtv(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

// panicSite returns " at <function> <file:line>" for the innermost
// go-proxmox frame of a stack trace, or "".
func panicSite(stack string) string {
	lines := strings.Split(stack, "\n")
	for i, l := range lines {
		if strings.Contains(l, "luthermonson/go-proxmox") && i+1 < len(lines) {
			return " at " + strings.TrimSpace(l) + " " + strings.TrimSpace(lines[i+1])
		}
	}
	return ""
}
