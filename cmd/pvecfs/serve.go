package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pvecfs/pvecfs/cli"
	"github.com/pvecfs/pvecfs/cluster"
	"github.com/pvecfs/pvecfs/daemon"
)

var serveOpts = []cli.Opt{
	{Name: "node", Type: cli.String, Help: "node name (default: host name up to the first '.')"},
	{Name: "data-dir", Type: cli.String, Help: "all state of the node (env PVECFS_DATA_DIR, default " + cli.DefaultDataDir + ")"},
	{Name: "api-addr", Type: cli.String, Help: "HTTPS REST API address (default 0.0.0.0:8006)"},
	{Name: "raft-addr", Type: cli.String, Help: "cluster traffic address, mutual TLS (default 0.0.0.0:5405)"},
	{Name: "raft-advertise", Type: cli.String, Help: "address other nodes dial for cluster traffic (default: from --raft-addr)"},
	{Name: "metrics-addr", Type: cli.String, Help: "Prometheus /metrics on plain HTTP (default off)"},
	{Name: "log-format", Type: cli.String, Help: "text|json (default text), on stderr"},
	{Name: "auth-fail-delay", Type: cli.String, Help: "delay of every authentication failure (default 3s)"},
	{Name: "raft-heartbeat", Type: cli.String, Help: "Raft heartbeat timeout (default " + cluster.DefaultTiming.Heartbeat.String() + ")"},
	{Name: "raft-election", Type: cli.String, Help: "Raft election timeout (default " + cluster.DefaultTiming.Election.String() + ")"},
	{Name: "raft-lease", Type: cli.String, Help: "Raft leader lease timeout (default " + cluster.DefaultTiming.LeaderLease.String() + ")"},
}

// serveConfig builds the daemon configuration from the serve options.
func serveConfig(c *cli.Ctx) (daemon.Config, error) {
	cfg := daemon.Config{
		Node:          c.Opts.Get("node"),
		DataDir:       c.DataDir(),
		APIAddr:       "0.0.0.0:8006",
		RaftAddr:      "0.0.0.0:5405",
		RaftAdvertise: c.Opts.Get("raft-advertise"),
		MetricsAddr:   c.Opts.Get("metrics-addr"),
		AuthFailDelay: 3 * time.Second,
		Timing:        cluster.DefaultTiming,
	}
	if v := c.Opts.Get("api-addr"); v != "" {
		cfg.APIAddr = v
	}
	if v := c.Opts.Get("raft-addr"); v != "" {
		cfg.RaftAddr = v
	}
	durations := []struct {
		name string
		dst  *time.Duration
		zero bool // zero keeps the default
	}{
		{"auth-fail-delay", &cfg.AuthFailDelay, false},
		{"raft-heartbeat", &cfg.Timing.Heartbeat, true},
		{"raft-election", &cfg.Timing.Election, true},
		{"raft-lease", &cfg.Timing.LeaderLease, true},
	}
	for _, d := range durations {
		if !c.Opts.Has(d.name) {
			continue
		}
		v, err := time.ParseDuration(c.Opts.Get(d.name))
		if err != nil || v < 0 {
			return cfg, fmt.Errorf("--%s: invalid duration '%s' (e.g. 500ms, 3s)", d.name, c.Opts.Get(d.name))
		}
		if v == 0 && d.zero {
			continue
		}
		*d.dst = v
	}
	var h slog.Handler
	switch f := c.Opts.Get("log-format"); f {
	case "", "text":
		h = slog.NewTextHandler(c.Stderr, nil)
	case "json":
		h = slog.NewJSONHandler(c.Stderr, nil)
		cfg.LogJSON = true
	default:
		return cfg, fmt.Errorf("--log-format: value '%s' is not one of text, json", f)
	}
	cfg.Logger = slog.New(h)
	return cfg, nil
}

// serve runs the node until the context ends (SIGTERM, SIGINT).
func serve(c *cli.Ctx) error {
	cfg, err := serveConfig(c)
	if err != nil {
		return err
	}
	slog.SetDefault(cfg.Logger)
	if err := daemon.Run(c.Context(), cfg); err != nil && !errors.Is(err, c.Context().Err()) {
		return err
	}
	return nil
}
