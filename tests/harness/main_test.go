package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// portsHelperEnv makes the test binary act as a second process that reserves
// ports, prints them and waits for stdin to close.
const portsHelperEnv = "HARNESS_TEST_PORTS_HELPER"

func TestMain(m *testing.M) {
	if prog := filepath.Base(os.Args[0]); slices.Contains(Programs, prog) {
		os.Exit(fakeMain(prog, os.Args[1:]))
	}
	if v := os.Getenv(portsHelperEnv); v != "" {
		os.Exit(portsHelper(v))
	}
	code := m.Run()
	RemoveBinaries()
	os.Exit(code)
}

// portsHelper reserves n ports, prints them as JSON and holds them until its
// stdin is closed.
func portsHelper(n string) int {
	k, err := strconv.Atoi(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ps, err := FreePorts(k)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, _ := json.Marshal(ps)
	fmt.Println(string(b))
	buf := make([]byte, 1)
	_, _ = os.Stdin.Read(buf)
	return 0
}
