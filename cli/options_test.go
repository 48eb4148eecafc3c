package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	acl := &Spec{Args: []string{"path"}, Opts: []Opt{{Name: "roles", Type: List}, {Name: "users", Type: List}, {Name: "groups", Type: List},
		{Name: "tokens", Type: List}, {Name: "propagate", Type: Bool}}, Global: append(append([]Opt(nil), ConnOpts...), OutputOpts...)}
	tok := &Spec{Args: []string{"userid", "tokenid"}, Opts: []Opt{{Name: "privsep", Type: Bool}, {Name: "expire", Type: Int}, {Name: "comment", Type: String}},
		Global: ConnOpts}
	realm := &Spec{Args: []string{"realm"}, Opts: []Opt{{Name: "user_attr", Type: String}, {Name: "user_classes", Type: String}}, Global: ConnOpts}
	opt := &Spec{OptArgs: []string{"userid"}, Opts: []Opt{{Name: "path", Type: String}, {Name: "password", Type: Secret}}, Global: ConnOpts}
	tests := []struct {
		name   string
		spec   *Spec
		argv   []string
		args   []string
		opts   Values
		global Values
		err    string
	}{
		{"single dash prefix abbreviations", acl, []string{"/vms", "-user", "joe@pve", "-role", "PVEVMAdmin"},
			[]string{"/vms"}, Values{"users": "joe@pve", "roles": "PVEVMAdmin"}, Values{}, ""},
		{"token abbreviation", acl, []string{"/vms", "-token", "joe@pve!monitoring", "-role", "PVEAuditor"},
			[]string{"/vms"}, Values{"tokens": "joe@pve!monitoring", "roles": "PVEAuditor"}, Values{}, ""},
		{"repeated list", acl, []string{"/", "--users", "a@pve", "--users=b@pve", "--roles", "R"},
			[]string{"/"}, Values{"users": "a@pve,b@pve", "roles": "R"}, Values{}, ""},
		{"global option", acl, []string{"/", "--roles", "R", "--output-format", "json", "--data-dir=/x"},
			[]string{"/"}, Values{"roles": "R"}, Values{"output-format": "json", "data-dir": "/x"}, ""},
		{"bool explicit", tok, []string{"joe@pve", "monitoring", "-privsep", "1"},
			[]string{"joe@pve", "monitoring"}, Values{"privsep": "1"}, Values{}, ""},
		{"bool equals", tok, []string{"joe@pve", "monitoring", "--privsep=0"},
			[]string{"joe@pve", "monitoring"}, Values{"privsep": "0"}, Values{}, ""},
		{"bool words", tok, []string{"--privsep", "off", "joe@pve", "monitoring"},
			[]string{"joe@pve", "monitoring"}, Values{"privsep": "0"}, Values{}, ""},
		{"bool takes the next argument", tok, []string{"--privsep", "joe@pve", "monitoring"}, nil, nil, nil, "privsep: unable to parse boolean option 'joe@pve'"},
		{"bool alone before option", tok, []string{"--privsep", "--comment", "c", "joe@pve", "monitoring"},
			[]string{"joe@pve", "monitoring"}, Values{"privsep": "1", "comment": "c"}, Values{}, ""},
		{"bool alone at end", tok, []string{"joe@pve", "monitoring", "--privsep"},
			[]string{"joe@pve", "monitoring"}, Values{"privsep": "1"}, Values{}, ""},
		{"bad bool", tok, []string{"joe@pve", "monitoring", "--privsep=maybe"}, nil, nil, nil, "privsep: unable to parse boolean option 'maybe'"},
		{"string takes dash value", tok, []string{"joe@pve", "m", "--comment", "-x-"},
			[]string{"joe@pve", "m"}, Values{"comment": "-x-"}, Values{}, ""},
		{"int", tok, []string{"joe@pve", "m", "--expire", "0"}, []string{"joe@pve", "m"}, Values{"expire": "0"}, Values{}, ""},
		{"bad int", tok, []string{"joe@pve", "m", "--expire", "soon"}, nil, nil, nil, "expire: value 'soon' is not an integer"},
		{"unknown option", tok, []string{"joe@pve", "m", "--bogus", "1"}, nil, nil, nil, "Unknown option: bogus"},
		{"command option wins abbreviation", acl, []string{"/", "--u", "x", "--r", "R"}, []string{"/"}, Values{"users": "x", "roles": "R"}, Values{}, ""},
		{"global exact wins over ambiguous abbreviation", realm, []string{"corp", "--user", "root@pam", "--user_a", "uid"},
			[]string{"corp"}, Values{"user_attr": "uid"}, Values{"user": "root@pam"}, ""},
		{"ambiguous command abbreviation", realm, []string{"corp", "--user_", "x"}, nil, nil, nil, "Option user_ is ambiguous (user_attr, user_classes)"},
		{"ambiguous", acl, []string{"/", "--no", "1"}, nil, nil, nil, "Option no is ambiguous (noborder, noheader)"},
		{"missing value", tok, []string{"joe@pve", "m", "--comment"}, nil, nil, nil, "Option comment requires an argument"},
		{"not enough args", tok, []string{"joe@pve"}, nil, nil, nil, "not enough arguments: missing <tokenid>"},
		{"too many args", tok, []string{"a", "b", "c"}, nil, nil, nil, "too many arguments: unexpected 'c'"},
		{"optional arg absent", opt, []string{"--path", "/vms"}, nil, Values{"path": "/vms"}, Values{}, ""},
		{"optional arg", opt, []string{"joe@pve"}, []string{"joe@pve"}, Values{}, Values{}, ""},
		{"secret alone", opt, []string{"--password", "--path", "/"}, nil, Values{"password": "", "path": "/"}, Values{}, ""},
		{"secret value", opt, []string{"--password", "s3cret"}, nil, Values{"password": "s3cret"}, Values{}, ""},
		{"double dash ends options", opt, []string{"--", "--path"}, []string{"--path"}, Values{}, Values{}, ""},
		{"negative number is positional", opt, []string{"-1"}, []string{"-1"}, Values{}, Values{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.spec.Parse(tt.argv)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if _, ok := err.(*UsageError); !ok {
					t.Fatalf("err %T is not a UsageError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Args, tt.args) || !reflect.DeepEqual(p.Opts, tt.opts) || !reflect.DeepEqual(p.Global, tt.global) {
				t.Fatalf("got args %q opts %v global %v; want %q %v %v", p.Args, p.Opts, p.Global, tt.args, tt.opts, tt.global)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	for _, tt := range []struct {
		in     string
		val    bool
		parsed bool
	}{{"1", true, true}, {"TRUE", true, true}, {"yes", true, true}, {"on", true, true}, {"0", false, true},
		{"False", false, true}, {"no", false, true}, {"OFF", false, true}, {"", false, false}, {"2", false, false}} {
		v, ok := ParseBool(tt.in)
		if v != tt.val || ok != tt.parsed {
			t.Errorf("ParseBool(%q) = %v %v", tt.in, v, ok)
		}
	}
}

func TestValuesForm(t *testing.T) {
	v := Values{"a": "1", "b": "", "c": "x"}
	f := v.Form("a", "b", "d")
	if f.Encode() != "a=1&b=" {
		t.Fatalf("form %q", f.Encode())
	}
}
