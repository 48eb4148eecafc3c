package cli

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// OptType is the kind of value an option takes.
type OptType int

// Option value kinds.
const (
	// String takes any value; the next argument is taken even if it starts with '-'.
	String OptType = iota
	// Bool takes an optional value (1|0|true|false|yes|no|on|off): the next
	// argument unless it looks like an option; alone it means 1.
	Bool
	// Int takes an integer.
	Int
	// List takes a string and may be repeated; values are joined with ",".
	List
	// Secret is a string whose value may be left out (e.g. `--password`
	// alone), in which case the command prompts for it.
	Secret
)

// Opt declares one option of a command.
type Opt struct {
	Name string
	Type OptType
	Help string
}

// Values holds parsed option values by canonical name: booleans are "1" or
// "0", lists are comma joined. A Secret given without a value is "".
type Values map[string]string

// Has reports whether the option was given.
func (v Values) Has(name string) bool { _, ok := v[name]; return ok }

// Get returns an option value, or "" if it was not given.
func (v Values) Get(name string) string { return v[name] }

// Bool returns a boolean option, or def if it was not given.
func (v Values) Bool(name string, def bool) bool {
	s, ok := v[name]
	if !ok {
		return def
	}
	return s == "1"
}

// Form returns the options named in names that were given, as API parameters.
func (v Values) Form(names ...string) url.Values {
	out := url.Values{}
	for _, n := range names {
		if s, ok := v[n]; ok {
			out.Set(n, s)
		}
	}
	return out
}

// Spec is what a command line may hold: positional arguments and options.
type Spec struct {
	// Args are required positional arguments, in order.
	Args []string
	// OptArgs are optional positional arguments after Args.
	OptArgs []string
	// Opts are the command's own options; they win over Global when an
	// abbreviation matches both (Proxmox compatibility: `-user` is `--users`
	// for `acl modify`).
	Opts []Opt
	// Global are the options every such command accepts (connection, output).
	Global []Opt
}

// Parsed is a parsed command line.
type Parsed struct {
	// Args are the positional arguments.
	Args []string
	// Opts are the command's own options.
	Opts Values
	// Global are the global options.
	Global Values
}

// UsageError is a command-line mistake (exit status 2 in Main).
type UsageError struct{ Msg string }

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

func usageErr(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

var (
	boolTrueRE  = regexp.MustCompile(`(?i)^(1|true|yes|on)$`)
	boolFalseRE = regexp.MustCompile(`(?i)^(0|false|no|off)$`)
)

// ParseBool parses a Proxmox boolean (1|0|true|false|yes|no|on|off).
func ParseBool(s string) (bool, bool) {
	switch {
	case boolTrueRE.MatchString(s):
		return true, true
	case boolFalseRE.MatchString(s):
		return false, true
	}
	return false, false
}

// isOption reports whether an argument looks like an option ("-x", "--x",
// but not "-" alone or a negative number).
func isOption(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	if _, err := strconv.ParseFloat(a, 64); err == nil {
		return false
	}
	return true
}

// resolve finds the option an argument name means (Getopt::Long's
// auto_abbrev, as Proxmox's CLI uses it, with the command's own options
// first): an exact name of the command's options, else a unique
// abbreviation of one of them, else the same among the global options.
// When the abbreviation is ambiguous among the command's options, an exact
// global name still wins (`--user` of `realm add`, which has user_attr and
// user_classes).
func (s *Spec) resolve(name string) (*Opt, bool, error) {
	exact := func(opts []Opt) *Opt {
		for i := range opts {
			if opts[i].Name == name {
				return &opts[i]
			}
		}
		return nil
	}
	prefixed := func(opts []Opt) ([]*Opt, error) {
		var cands []*Opt
		for i := range opts {
			if strings.HasPrefix(opts[i].Name, name) {
				cands = append(cands, &opts[i])
			}
		}
		if len(cands) > 1 {
			names := make([]string, len(cands))
			for i, c := range cands {
				names[i] = c.Name
			}
			sort.Strings(names)
			return nil, usageErr("Option %s is ambiguous (%s)", name, strings.Join(names, ", "))
		}
		return cands, nil
	}
	if o := exact(s.Opts); o != nil {
		return o, false, nil
	}
	cands, ambiguous := prefixed(s.Opts)
	if len(cands) == 1 {
		return cands[0], false, nil
	}
	if o := exact(s.Global); o != nil {
		return o, true, nil
	}
	if ambiguous != nil {
		return nil, false, ambiguous
	}
	cands, err := prefixed(s.Global)
	if err != nil {
		return nil, false, err
	}
	if len(cands) == 1 {
		return cands[0], true, nil
	}
	return nil, false, usageErr("Unknown option: %s", name)
}

// Parse parses argv against the spec. Options may appear anywhere, with one
// or two dashes, as "--name value" or "--name=value"; "--" ends options.
func (s *Spec) Parse(argv []string) (*Parsed, error) {
	p := &Parsed{Opts: Values{}, Global: Values{}}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			p.Args = append(p.Args, argv[i+1:]...)
			break
		}
		if !isOption(a) {
			p.Args = append(p.Args, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		val, hasVal := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, val, hasVal = k, v, true
		}
		if name == "" {
			return nil, usageErr("Unknown option: %s", a)
		}
		opt, global, err := s.resolve(name)
		if err != nil {
			return nil, err
		}
		dst := p.Opts
		if global {
			dst = p.Global
		}
		switch opt.Type {
		case Bool:
			if !hasVal {
				val = "1"
				// as Getopt::Long's ":s": the next argument is the value
				// unless it looks like an option
				if i+1 < len(argv) && !isOption(argv[i+1]) && argv[i+1] != "--" {
					val = argv[i+1]
					i++
				}
			}
			b, ok := ParseBool(val)
			if !ok {
				return nil, usageErr("%s: unable to parse boolean option '%s'", opt.Name, val)
			}
			dst[opt.Name] = "0"
			if b {
				dst[opt.Name] = "1"
			}
			continue
		case Secret:
			if !hasVal && i+1 < len(argv) && !isOption(argv[i+1]) {
				val = argv[i+1]
				i++
			}
			dst[opt.Name] = val
			continue
		}
		if !hasVal {
			if i+1 >= len(argv) {
				return nil, usageErr("Option %s requires an argument", opt.Name)
			}
			val = argv[i+1]
			i++
		}
		switch opt.Type {
		case Int:
			if _, err := strconv.ParseInt(val, 10, 64); err != nil {
				return nil, usageErr("%s: value '%s' is not an integer", opt.Name, val)
			}
			dst[opt.Name] = val
		case List:
			if prev, ok := dst[opt.Name]; ok && prev != "" {
				val = prev + "," + val
			}
			dst[opt.Name] = val
		default:
			dst[opt.Name] = val
		}
	}
	if len(p.Args) < len(s.Args) {
		missing := make([]string, 0, len(s.Args)-len(p.Args))
		for _, a := range s.Args[len(p.Args):] {
			missing = append(missing, "<"+a+">")
		}
		return nil, usageErr("not enough arguments: missing %s", strings.Join(missing, " "))
	}
	if max := len(s.Args) + len(s.OptArgs); len(p.Args) > max {
		return nil, usageErr("too many arguments: unexpected '%s'", p.Args[max])
	}
	return p, nil
}

// Synopsis renders the positional part of a usage line.
func (s *Spec) Synopsis() string {
	var parts []string
	for _, a := range s.Args {
		parts = append(parts, "<"+a+">")
	}
	for _, a := range s.OptArgs {
		parts = append(parts, "[<"+a+">]")
	}
	if len(s.Opts) > 0 {
		parts = append(parts, "[OPTIONS]")
	}
	return strings.Join(parts, " ")
}
