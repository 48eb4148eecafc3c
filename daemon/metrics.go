package daemon

import (
	"encoding/json"
	"github.com/pvecfs/pvecfs/api"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func cfsMarshal(v any) (json.RawMessage, error) { return json.Marshal(v) }

// metrics are the node's Prometheus metrics (served on --metrics-addr).
type metrics struct {
	reg          *prometheus.Registry
	applySeconds prometheus.Histogram
	requests     *prometheus.CounterVec
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.applySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "pvecfs_fsm_apply_seconds", Help: "Time to apply one log entry to the tree.",
		Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10)})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pvecfs_api_requests_total", Help: "REST requests by method."}, []string{"method"})
	stat := func(key string) func() float64 {
		return func() float64 {
			v, _ := strconv.ParseFloat(d.node.Stats()[key], 64)
			return v
		}
	}
	states := map[string]float64{"Follower": 0, "Candidate": 1, "Leader": 2, "Shutdown": 3}
	m.reg.MustRegister(m.applySeconds, m.requests,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pvecfs_lock_waits_total", Help: "Writes that waited for a cluster lock."},
			func() float64 { return float64(api.LockWaits.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pvecfs_lock_timeouts_total", Help: "Writes that gave up waiting for a cluster lock."},
			func() float64 { return float64(api.LockTimeouts.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvecfs_raft_state", Help: "Raft state: 0 follower, 1 candidate, 2 leader, 3 shutdown."},
			func() float64 { return states[d.node.Stats()["state"]] }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvecfs_raft_term", Help: "Current Raft term."}, stat("term")),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvecfs_raft_commit_index", Help: "Raft commit index."}, stat("commit_index")),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvecfs_raft_applied_index", Help: "Raft applied index."}, stat("applied_index")),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvecfs_quorate", Help: "1 if the node sees a quorum."}, func() float64 {
			if d.node.Quorate() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pvecfs_forwarded_writes_total", Help: "Writes this node forwarded to the leader."}, func() float64 {
			out, _ := d.node.Forwarded()
			return float64(out)
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "pvecfs_forwarded_writes_received_total", Help: "Writes this node received from followers as leader."}, func() float64 {
			_, in := d.node.Forwarded()
			return float64(in)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvecfs_tree_entries", Help: "Files and directories in the tree."}, func() float64 {
			return float64(len(d.tree.Paths()))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pvecfs_tree_version", Help: "Global tree version."}, func() float64 {
			return float64(d.tree.Version())
		}),
	)
	d.node.SetApplyObserver(func(dur time.Duration) { m.applySeconds.Observe(dur.Seconds()) })
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// wrap counts requests by method and status class.
func (m *metrics) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		m.requests.WithLabelValues(r.Method).Inc()
	})
}
