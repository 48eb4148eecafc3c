// Package harness drives real pvecfs processes for multi-process cluster
// tests: it builds the binaries once per test binary (or uses PVECFS_BIN_DIR),
// starts `pvecfs serve` nodes on free 127.0.0.1 ports with their own data
// dirs, talks HTTPS to their REST API with Proxmox conventions (ticket cookie
// plus CSRFPreventionToken, or API token), runs pveum/pvecm/pvecfs against a
// node's local socket, forms clusters with `pvecm create`/`pvecm add`, and
// kills (SIGKILL), stops (SIGTERM) and restarts nodes on the same ports and
// data dirs.
//
// Everything follows the outside contract (CONTRACT.md); nothing here knows
// the daemon's internals. The one assumption beyond the contract is how the
// leader is named in status output: see LeaderName.
//
// A typical cluster test:
//
//	func TestLeaderKill(t *testing.T) {
//		if testing.Short() {
//			t.Skip("multi-process test")
//		}
//		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
//		defer cancel()
//		c := harness.NewCluster(t, 3, harness.WithForm())
//
//		leader, err := c.Leader(ctx)
//		if err != nil {
//			t.Fatal(err)
//		}
//		_, stderr, code, err := leader.CLI(ctx, nil, "pveum", "user", "add", "alice@pve")
//		if err != nil || code != 0 {
//			t.Fatalf("pveum: %v %d %s", err, code, stderr)
//		}
//		if err := leader.Kill(); err != nil {
//			t.Fatal(err)
//		}
//		if _, err := c.WaitForNewLeader(ctx, leader); err != nil {
//			t.Fatal(err)
//		}
//		other := c.Running()[0]
//		cl, err := other.RootClient(ctx)
//		if err != nil {
//			t.Fatal(err)
//		}
//		resp, err := cl.Do(ctx, "GET", "/access/users/alice@pve", nil)
//		if err != nil || resp.Status != 200 {
//			t.Fatalf("user lost after leader kill: %v %+v", err, resp)
//		}
//		if err := leader.Restart(ctx); err != nil { // same ports, same data dir
//			t.Fatal(err)
//		}
//		if err := c.WaitMembers(ctx, c.Nodes); err != nil {
//			t.Fatal(err)
//		}
//	}
//
// Synchronise with WaitFor, WaitReady, WaitMembers and the Wait* methods,
// never with bare sleeps. Node logs (stdout and stderr of every start) are in
// Node.LogPath; when a test fails their last LogTailLines lines are logged, and
// a panic or data race report in any of them fails the test. With
// PVECFS_HARNESS_RACE=1 the binaries are built with -race.
//
// The harness is Unix-only in practice (signals, flock); it builds elsewhere.
package harness
