// Command pvecfs runs a pvecfs node (`pvecfs serve`) and offers the raw
// tools of the replicated tree: fingerprint, ls, cat, put, rm, cluster
// locks and the tree checksum.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pvecfs/pvecfs/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(os.Args[1:], cli.OSEnv(ctx))
	stop()
	os.Exit(code)
}

// run runs one pvecfs command line and returns the exit status.
func run(args []string, env *cli.Env) int {
	return cli.Main("pvecfs", commands(), env, args)
}
