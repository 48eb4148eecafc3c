// Command pveum is the pvecfs user manager, with Proxmox's `pveum` syntax:
// every command is a call of the /access REST API on the local node (Unix
// socket, as root@pam) or on --url.
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

// run runs one pveum command line and returns the exit status.
func run(args []string, env *cli.Env) int {
	return cli.Main("pveum", commands(), env, args)
}
