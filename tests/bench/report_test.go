package main

import (
	"testing"
	"time"
)

func TestReplaceSection(t *testing.T) {
	body := "new figures\n"
	cases := []struct{ name, doc, want string }{
		{"empty", "", "# Benchmarks\n\n## Cluster\n\nnew figures\n"},
		{"append", "# Benchmarks\n\n## Access\n\nx\n", "# Benchmarks\n\n## Access\n\nx\n\n## Cluster\n\nnew figures\n"},
		{"replace last", "# Benchmarks\n\n## Cluster\n\nold\n### sub\nold\n", "# Benchmarks\n\n## Cluster\n\nnew figures\n"},
		{"replace middle", "# Benchmarks\n\n## Cluster\n\nold\n\n## Access\n\nx\n",
			"# Benchmarks\n\n## Cluster\n\nnew figures\n\n## Access\n\nx\n"},
		{"fence", "# B\n\n## Cluster\n\n```\n## not a heading\n```\nold\n## Next\n",
			"# B\n\n## Cluster\n\nnew figures\n\n## Next\n"},
		{"prefix heading is another section", "# B\n\n## Cluster tests\n\nx\n", "# B\n\n## Cluster tests\n\nx\n\n## Cluster\n\nnew figures\n"},
	}
	for _, c := range cases {
		if got := replaceSection(c.doc, body); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := quantile(s, c.p); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("quantile of nothing should be 0")
	}
	if st := summarize([]time.Duration{3, 1, 2, 4}); st.Median != 2 || st.Min != 1 || st.Max != 4 {
		t.Errorf("summarize: %+v", st)
	}
}
