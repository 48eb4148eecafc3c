//go:build !unix

package harness

import "os"

// lockPort has no cross-process reservation on this platform.
func lockPort(p int) (*os.File, bool) { return nil, true }
