// Package compat holds compatibility tests that drive real third-party
// Proxmox VE API clients against real `pvecfs serve` processes:
//
//   - github.com/luthermonson/go-proxmox v0.8.2 (this module's go.mod),
//   - proxmoxer 1.2.0 from Debian's python3-proxmoxer (python/),
//   - npm proxmox-api 1.1.1 (js/).
//
// Each test replays the recorded end-to-end flow of
// shared/reference/api-clients.md §2 with its client and asserts what that
// reference says a PVE-compatible server must answer. The Python and
// JavaScript tests skip, saying why, when their interpreter or client package
// is missing; scripts/compat.sh installs them and runs this module's tests.
//
// This is its own Go module so that go-proxmox and its dependencies stay out
// of the server's go.mod. The server binaries are built from the repository
// root (../..) once per test binary, unless PVECFS_BIN_DIR names a directory
// that already holds pvecfs, pveum and pvecm.
package compat
