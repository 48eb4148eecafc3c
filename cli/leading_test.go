package cli

import (
	"reflect"
	"testing"
)

func TestLeadingGlobals(t *testing.T) {
	tests := []struct {
		in, lead, rest []string
	}{
		{[]string{"--data-dir", "/d", "user", "list"}, []string{"--data-dir", "/d"}, []string{"user", "list"}},
		{[]string{"-data-dir=/d", "--output-format", "json", "user"}, []string{"-data-dir=/d", "--output-format", "json"}, []string{"user"}},
		{[]string{"--noborder", "user", "list"}, []string{"--noborder"}, []string{"user", "list"}},
		{[]string{"user", "--data-dir", "/d"}, nil, []string{"user", "--data-dir", "/d"}},
		{[]string{"--bogus", "x"}, nil, []string{"--bogus", "x"}},
		{[]string{"--help"}, nil, []string{"--help"}},
	}
	for _, tc := range tests {
		lead, rest := leadingGlobals(tc.in)
		if !reflect.DeepEqual(lead, tc.lead) || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("leadingGlobals(%q) = %q, %q; want %q, %q", tc.in, lead, rest, tc.lead, tc.rest)
		}
	}
}
