package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// results gathers what one run measured; a nil slice with a nil error means
// the part was not requested.
type results struct {
	raft     map[int][]loadResult // by client count, one per round
	raftErr  error
	rest     map[int][]loadResult
	restErr  error
	fail     *failoverResult
	failErr  error
	clusterE error // cluster formation, shared by (b) and (c)
}

func (r *results) failed() bool {
	return r.raftErr != nil || r.restErr != nil || r.failErr != nil || r.clusterE != nil
}

// runInfo describes the run for the report.
type runInfo struct {
	Command            string
	Date               time.Time
	Commit             string
	Machine            string
	LoadStart, LoadEnd string
	Opts               *options
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

func fmtInt(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// median returns the round with the median throughput (the lower middle
// one for an even count) and the lowest and highest throughput.
func median(rounds []loadResult) (mid loadResult, lo, hi float64, ok bool) {
	if len(rounds) == 0 {
		return mid, 0, 0, false
	}
	s := slices.Clone(rounds)
	slices.SortFunc(s, func(a, b loadResult) int { return cmp.Compare(a.Rate(), b.Rate()) })
	return s[(len(s)-1)/2], s[0].Rate(), s[len(s)-1].Rate(), true
}

func medianRate(m map[int][]loadResult, clients int) (float64, bool) {
	r, _, _, ok := median(m[clients])
	return r.Rate(), ok
}

// render returns the body of the "## Cluster" section (without the heading).
func render(info runInfo, res *results) string {
	o := info.Opts
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("Measured %s with `%s`", info.Date.UTC().Format("2006-01-02 15:04 MST"), info.Command)
	if info.Commit != "" {
		w(" at commit `%s`", info.Commit)
	}
	w(".\nMachine: %s", info.Machine)
	if info.LoadStart != "" {
		w("; load average %s at the start, %s at the end (the machine is shared)", info.LoadStart, info.LoadEnd)
	}
	w(".\n\n")
	w("Three nodes on 127.0.0.1. (a) bare hashicorp/raft v1.7.3 with a no-op FSM, three nodes in one process, ")
	w("on the log store and Raft settings pvecfs uses (raft-boltdb/v2 with bbolt `NoFreelistSync`, file snapshot store, ")
	w("`BatchApplyCh`, `MaxAppendEntries` 64, commit timeout %s) over `raft.NewTCPTransport`; every client calls `Apply` on the leader. ", benchTiming.Commit)
	w("Both (a) and (b) run with tuned timeouts: heartbeat %s, election %s, leader lease %s (`pvecfs serve --raft-heartbeat/--raft-election/--raft-lease`; ", benchTiming.Heartbeat, benchTiming.Election, benchTiming.LeaderLease)
	w("pvecfs's defaults are hashicorp/raft's 1 s / 1 s / 500 ms). ")
	w("(b) three `pvecfs serve` processes formed with `pvecm create`/`pvecm add`; every client is a keep-alive HTTPS connection ")
	w("logged in as root@pam, clients spread round-robin over the three nodes, each writing new files with ")
	w("`PUT /api2/json/pvecfs/files path=bench/<client>/<i>`. Both write %d-byte payloads in a closed loop; ", o.payload)
	w("each measurement counts the operations completed in a %s window after %s of warm-up. ", o.duration, o.warmup)
	w("Every row was measured %d time%s, (a) and (b) alternating; the table shows the round with the median throughput ", o.rounds, plural(o.rounds))
	w("(its count, p50 and p99; latency per operation, nearest rank) and the throughput range over all rounds.\n\n")

	if o.parts["raft"] || o.parts["rest"] {
		w("| Workload | Clients | Writes | Writes/s | range | p50 | p99 | Errors | CPU used (cores) |\n")
		w("|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
		for _, n := range o.clients {
			for _, part := range []struct {
				key    string
				name   string
				rounds []loadResult
			}{
				{"raft", "(a) bare raft, no-op FSM", res.raft[n]},
				{"rest", "(b) pvecfs REST PUT", res.rest[n]},
			} {
				if !o.parts[part.key] {
					continue
				}
				r, lo, hi, ok := median(part.rounds)
				if !ok {
					w("| %s | %d | — | — | — | — | — | not measured | |\n", part.name, n)
					continue
				}
				errs := 0
				for _, x := range part.rounds {
					errs += x.Errors
				}
				w("| %s | %d | %s | **%s** | %s–%s | %s | %s | %d | %s |\n", part.name, n, fmtInt(r.Ops), fmtInt(int(r.Rate()+0.5)),
					fmtInt(int(lo+0.5)), fmtInt(int(hi+0.5)), fmtDur(r.P(0.50)), fmtDur(r.P(0.99)), errs, cpuText(part.key, r))
			}
		}
		w("\n")
		if o.parts["raft"] && o.parts["rest"] {
			var parts []string
			for _, n := range o.clients {
				a, okA := medianRate(res.raft, n)
				bb, okB := medianRate(res.rest, n)
				if okA && okB && a > 0 {
					parts = append(parts, fmt.Sprintf("**%.0f %%** at %d client%s", 100*bb/a, n, plural(n)))
				}
			}
			if len(parts) > 0 {
				w("Ratio (b)/(a) in writes/s: %s.", strings.Join(parts, ", "))
				a, okA := medianRate(res.raft, 64)
				bb, okB := medianRate(res.rest, 64)
				if okA && okB && a > 0 {
					met := "met"
					if bb/a < 0.8 {
						met = "not met"
					}
					w(" Target (not asserted): (b) ≥ 80 %% of (a) at 64 clients: %s.", met)
				}
				w("\n\n")
			}
		}
		for _, e := range []struct {
			name string
			err  error
		}{{"(a)", res.raftErr}, {"(b)", firstErr(res.restErr, res.clusterE)}} {
			if e.err != nil {
				w("**%s failed:** `%s`\n\n", e.name, firstLine(e.err))
			}
		}
		for _, m := range []map[int][]loadResult{res.raft, res.rest} {
			for _, n := range o.clients {
				for i, r := range m[n] {
					if r.Errors > 0 && r.FirstErr != nil {
						w("%s at %d clients, round %d: %d errors, the first: `%s`\n\n", r.Name, r.Clients, i+1, r.Errors, firstLine(r.FirstErr))
					}
				}
			}
		}
	}

	if o.parts["failover"] {
		w("(c) Leader failover: find the leader (`GET /api2/json/pvecfs/cluster/status`), SIGKILL its process, ")
		w("and time until the next acknowledged write: a writer starts a PUT every 10 ms, alternating over the two surviving nodes ")
		w("(several may be in flight); meanwhile both survivors are asked for the cluster status every 10 ms. Then the killed node is restarted on the same ports and data dir and the next trial waits until ")
		w("`GET /api2/json/pvecfs/checksum` with `X-Pvecfs-Consistency: linearizable` answers the same on all three nodes ")
		w("and they agree on the leader.\n\n")
		if f := res.fail; f != nil && len(f.Failover) > 0 {
			s, c := summarize(f.Failover), summarize(f.CatchUp)
			w("| Measurement | Trials | Median | Min | Max |\n|---|--:|--:|--:|--:|\n")
			w("| (c) leader SIGKILL → next acknowledged write | %d | **%s** | %s | %s |\n", s.N, fmtDur(s.Median), fmtDur(s.Min), fmtDur(s.Max))
			if e := summarize(f.Elected); e.N > 0 {
				w("| leader SIGKILL → a survivor's status names a new leader | %d | %s | %s | %s |\n", e.N, fmtDur(e.Median), fmtDur(e.Min), fmtDur(e.Max))
			}
			if c.N > 0 {
				w("| restart of the killed node → all checksums equal | %d | %s | %s | %s |\n", c.N, fmtDur(c.Median), fmtDur(c.Min), fmtDur(c.Max))
			}
			met := "met"
			if s.Median > 500*time.Millisecond {
				met = "not met"
			}
			var ts []string
			for _, d := range f.Failover {
				ts = append(ts, fmtDur(d))
			}
			w("\nTarget (not asserted): failover median ≤ 0.5 s: %s. Trials in order: %s.\n\n", met, strings.Join(ts, ", "))
		}
		if err := firstErr(res.failErr, res.clusterE); err != nil {
			w("**(c) failed:** `%s`\n\n", firstLine(err))
		}
	}
	w("Caveats: the load generator shares the machine's cores with the three nodes; (a) has no TLS and no HTTP, ")
	w("pvecfs's cluster traffic is mutual TLS; runs vary (±20 %% is usual on shared machines), compare medians of several runs.\n")
	return b.String()
}

func cpuText(part string, r loadResult) string {
	switch {
	case !r.CPUOK:
		return "—"
	case part == "raft":
		return fmt.Sprintf("%.2f (nodes and clients, one process)", r.CPUSelf)
	default:
		return fmt.Sprintf("nodes %.2f + clients %.2f", r.CPUNodes, r.CPUSelf)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

const sectionHeading = "## Cluster"

// replaceSection replaces the "## Cluster" section of doc (from its heading to
// the next heading of level 1 or 2 outside a code fence, or the end) with
// heading + body, or appends it. An empty doc gets a "# Benchmarks" title.
func replaceSection(doc, body string) string {
	section := sectionHeading + "\n\n" + strings.TrimRight(body, "\n") + "\n"
	if strings.TrimSpace(doc) == "" {
		return "# Benchmarks\n\n" + section
	}
	lines := strings.SplitAfter(doc, "\n")
	start, end := -1, len(lines)
	fence := false
	for i, l := range lines {
		t := strings.TrimRight(l, " \t\r\n")
		if strings.HasPrefix(strings.TrimSpace(t), "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		isTop := strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "## ") || t == "#" || t == "##"
		if start < 0 {
			if t == sectionHeading {
				start = i
			}
			continue
		}
		if isTop {
			end = i
			break
		}
	}
	if start < 0 {
		return strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	before := strings.Join(lines[:start], "")
	after := strings.Join(lines[end:], "")
	if after != "" {
		section += "\n"
	}
	return before + section + after
}

// writeSection updates path in place (creating it if missing).
func writeSection(path, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	doc := replaceSection(string(old), body)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}
