// Command pvecm is the pvecfs cluster manager, with Proxmox's `pvecm`
// syntax: create, add, delnode, status and nodes over the local node's
// REST API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pvecfs/pvecfs/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	code := run(os.Args[1:], cli.OSEnv(ctx))
	stop()
	os.Exit(code)
}

// run runs one pvecm command line and returns the exit status.
func run(args []string, env *cli.Env) int {
	return cli.Main("pvecm", commands(), env, args)
}
