// Command bench measures the pvecfs cluster on three local nodes:
//
//	(a) bare hashicorp/raft with a no-op FSM on pvecfs's log store and Raft
//	    settings, three nodes in this process;
//	(b) 1 KiB raw file writes through the REST API of three real
//	    `pvecfs serve` processes formed into a cluster;
//	(c) leader failover: SIGKILL of the leader until the next acknowledged
//	    write.
//
// It prints a Markdown report and, with -out FILE, replaces the "## Cluster"
// section of FILE. Run it through scripts/bench.sh, which builds the
// binaries first:
//
//	scripts/bench.sh [-out docs/benchmarks.md] [-only raft,rest,failover]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin      string
	only     string
	parts    map[string]bool
	out      string
	dir      string
	work     string // this run's scratch dir
	warmup   time.Duration
	duration time.Duration
	clients  []int
	trials   int
	rounds   int
	payload  int
	password string
	keep     bool
	verbose  bool
	timeout  time.Duration
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fset := flag.NewFlagSet("bench", flag.ContinueOnError)
	fset.StringVar(&o.bin, "bin", "./bin", "directory with the pvecfs and pvecm binaries")
	fset.StringVar(&o.only, "only", "", "comma-separated parts to run: raft, rest, failover, access (default all)")
	fset.StringVar(&o.out, "out", "", "Markdown file whose \"## Cluster\" section is replaced (written only if every part succeeded)")
	fset.StringVar(&o.dir, "dir", os.TempDir(), "directory for the temporary data dirs")
	fset.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before each measurement")
	fset.DurationVar(&o.duration, "duration", 5*time.Second, "measurement window per row")
	clients := fset.String("clients", "1,64", "comma-separated concurrent client counts")
	fset.IntVar(&o.rounds, "rounds", 3, "measure every (a) and (b) row this many times (interleaved); the median round is reported")
	fset.IntVar(&o.trials, "trials", 10, "failover trials")
	fset.IntVar(&o.payload, "payload", 1024, "payload size in bytes")
	fset.StringVar(&o.password, "password", "bench-root-pw", "root@pam password of the benchmark cluster")
	fset.BoolVar(&o.keep, "keep", false, "keep the scratch dir (data and logs) after a successful run")
	fset.BoolVar(&o.verbose, "v", false, "progress output")
	fset.DurationVar(&o.timeout, "timeout", 10*time.Minute, "overall time limit")
	fset.DurationVar(&benchTiming.Heartbeat, "heartbeat", 200*time.Millisecond, "Raft heartbeat timeout of every node (tuned for failover on a quiet LAN)")
	fset.DurationVar(&benchTiming.Election, "election", 200*time.Millisecond, "Raft election timeout of every node")
	fset.DurationVar(&benchTiming.LeaderLease, "lease", 100*time.Millisecond, "Raft leader lease timeout of every node")
	if err := fset.Parse(args); err != nil {
		return nil, err
	}
	if fset.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fset.Args(), " "))
	}
	o.parts = map[string]bool{}
	if o.only == "" {
		o.parts = map[string]bool{"raft": true, "rest": true, "failover": true, "access": true}
	} else {
		for _, p := range strings.Split(o.only, ",") {
			p = strings.TrimSpace(p)
			switch p {
			case "raft", "rest", "failover", "access":
				o.parts[p] = true
			default:
				return nil, fmt.Errorf("-only: unknown part %q (want raft, rest, failover, access)", p)
			}
		}
	}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("-clients: bad count %q", s)
		}
		o.clients = append(o.clients, n)
	}
	switch {
	case o.payload < 1 || o.payload > 512*1024:
		return nil, fmt.Errorf("-payload: %d out of range 1..524288", o.payload)
	case o.duration <= 0 || o.warmup < 0:
		return nil, errors.New("-duration must be positive and -warmup not negative")
	case o.rounds < 1:
		return nil, errors.New("-rounds must be at least 1")
	case o.trials < 1 && o.parts["failover"]:
		return nil, errors.New("-trials must be at least 1")
	}
	abs, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, fmt.Errorf("-bin: %w", err)
	}
	o.bin = abs
	return o, nil
}

// payloadText is n bytes of printable ASCII (valid UTF-8 text for the tree).
func payloadText(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[i%len(alphabet)]
	}
	if n > 0 {
		b[n-1] = '\n'
	}
	return string(b)
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if len(o.parts) == 1 && o.parts["access"] {
		os.Exit(runAccessOnly(o)) // access.go
	}
	os.Exit(run(o))
}

func run(o *options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	work, err := os.MkdirTemp(o.dir, "pvecfs-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: scratch dir:", err)
		return 1
	}
	o.work = work
	info := runInfo{Command: command(), Date: time.Now(), Commit: gitCommit(), Machine: machine(work), LoadStart: loadAvg(), Opts: o}
	progress := func(format string, a ...any) {
		if o.verbose {
			fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
		}
	}
	text := payloadText(o.payload)
	res := &results{raft: map[int][]loadResult{}, rest: map[int][]loadResult{}}

	var rb *raftBench
	if o.parts["raft"] {
		progress("(a) starting the bare raft cluster")
		rb, res.raftErr = newRaftBench(ctx, o, []byte(text))
	}
	var pc *pveCluster
	if o.parts["rest"] || o.parts["failover"] {
		progress("starting and forming the pvecfs cluster")
		if pc, res.clusterE = startPVECluster(ctx, o, 3); res.clusterE != nil {
			res.clusterE = fmt.Errorf("pvecfs cluster: %w", res.clusterE)
		}
	}
	var pb *restBench
	if o.parts["rest"] && pc != nil {
		pb = &restBench{c: pc, content: text}
	}
	// (a) and (b) alternate, row by row, so that a change in the machine's
	// background load affects both alike.
	for round := 1; round <= o.rounds; round++ {
		for _, n := range o.clients {
			if rb != nil && res.raftErr == nil {
				progress("round %d: (a) %d clients", round, n)
				r, err := rb.measure(ctx, o, n)
				res.raftErr = err
				if err == nil {
					res.raft[n] = append(res.raft[n], r)
				}
			}
			if pb != nil && res.restErr == nil {
				progress("round %d: (b) %d clients", round, n)
				r, err := pb.measure(ctx, o, n)
				res.restErr = err
				if err == nil {
					res.rest[n] = append(res.rest[n], r)
				}
			}
		}
	}
	var accessErr error
	if o.parts["access"] && ctx.Err() == nil {
		accessErr = accessPart(ctx, o, pc, rb, res, progress) // access.go: the "## Access API" section
	}
	if o.parts["failover"] && pc != nil && ctx.Err() == nil {
		progress("(c) failover")
		f, err := benchFailover(ctx, o, pc)
		res.fail, res.failErr = &f, err
	}
	info.LoadEnd = loadAvg()
	if rb != nil {
		rb.close()
	}
	if pc != nil {
		pc.stop()
	}

	body := render(info, res)
	fmt.Print(sectionHeading + "\n\n" + body)
	for _, e := range []error{res.raftErr, res.clusterE, res.restErr, res.failErr} {
		if e != nil {
			fmt.Fprintln(os.Stderr, "bench: FAILED:", e)
		}
	}
	if res.failed() || accessErr != nil {
		fmt.Fprintf(os.Stderr, "bench: data and logs kept in %s\n", work)
		if o.out != "" {
			fmt.Fprintf(os.Stderr, "bench: %s not written because a part failed\n", o.out)
		}
		return 1
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "bench: data and logs kept in %s\n", work)
	} else if err := os.RemoveAll(work); err != nil {
		fmt.Fprintln(os.Stderr, "bench: remove scratch dir:", err)
	}
	if o.out != "" {
		if err := writeSection(o.out, body); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "bench: updated the %q section of %s\n", sectionHeading, o.out)
	}
	return 0
}

// command is how the benchmark was invoked (scripts/bench.sh passes its own
// command line in PVECFS_BENCH_CMD).
func command() string {
	if c := os.Getenv("PVECFS_BENCH_CMD"); c != "" {
		return c
	}
	return strings.TrimSpace("go run ./tests/bench " + strings.Join(os.Args[1:], " "))
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// machine describes the host: CPUs, model, OS, kernel, Go, and the file
// system holding the data dirs (fsync cost depends on it).
func machine(dir string) string {
	parts := []string{fmt.Sprintf("nproc %d", runtime.NumCPU())}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				parts = append(parts, strings.Join(strings.Fields(v), " "))
				break
			}
		}
	}
	osd := runtime.GOOS + "/" + runtime.GOARCH
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		osd += " " + strings.TrimSpace(string(b))
	}
	parts = append(parts, osd, runtime.Version())
	if fs := fsType(dir); fs != "" {
		parts = append(parts, "data dirs on "+fs)
	}
	return strings.Join(parts, ", ")
}

// loadAvg is the 1, 5 and 15 minute load average ("" if unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
