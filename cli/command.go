package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Env is what a program run sees of its process; tests fill it in.
type Env struct {
	// Ctx bounds the requests (nil: background).
	Ctx context.Context
	// Stdin, Stdout and Stderr are the standard streams.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable (nil: none are set).
	Getenv func(string) string
	// ReadPassword asks for a secret without echo (nil: no terminal).
	ReadPassword func(prompt string) (string, error)
}

// OSEnv returns the environment of the running process.
func OSEnv(ctx context.Context) *Env {
	return &Env{Ctx: ctx, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, ReadPassword: ReadTerminalPassword}
}

// Command is a node of a command tree: a group (Sub) or a leaf (Run).
type Command struct {
	// Name is the word that selects the command.
	Name string
	// Aliases are other words for it (e.g. "remove" for "delete").
	Aliases []string
	// AliasOf makes a top-level command stand for another path ("useradd"
	// is "user add").
	AliasOf []string
	// Help is a one-line description.
	Help string
	// Args and OptArgs are the positional arguments.
	Args, OptArgs []string
	// Opts are the command's options.
	Opts []Opt
	// Output adds the standard output options (--output-format, ...).
	Output bool
	// NoConn leaves out the connection options (the command needs no node).
	NoConn bool
	// Raw leaves the arguments unparsed (in Ctx.Args), for commands that
	// only refuse to run.
	Raw bool
	// Sub are the sub-commands of a group.
	Sub []*Command
	// Run does the work of a leaf.
	Run func(c *Ctx) error
}

// ConnOpts are the options that choose the node a command talks to.
var ConnOpts = []Opt{
	{Name: "data-dir", Type: String, Help: "data dir of the local node (env PVECFS_DATA_DIR, default " + DefaultDataDir + ")"},
	{Name: "url", Type: String, Help: "https://HOST:PORT of a node's API instead of the local socket"},
	{Name: "user", Type: String, Help: "log in as USER@REALM (or env PVECFS_USER) with password from PVECFS_PASSWORD (with --url)"},
	{Name: "fingerprint", Type: String, Help: "SHA-256 fingerprint the --url server certificate must have"},
}

// Ctx is a running leaf command.
type Ctx struct {
	*Env
	// Prog is the program name.
	Prog string
	// Path is the command path ("user token add").
	Path string
	// Args are the positional arguments.
	Args []string
	// Opts are the command's own options.
	Opts Values
	// Global are the connection and output options.
	Global Values
	// Format is the chosen output format.
	Format Format
	client *Client
}

// Context returns the request context.
func (c *Ctx) Context() context.Context {
	if c.Env.Ctx == nil {
		return context.Background()
	}
	return c.Env.Ctx
}

// Arg returns positional argument i, or "" if absent.
func (c *Ctx) Arg(i int) string {
	if i < len(c.Args) {
		return c.Args[i]
	}
	return ""
}

// Getenv reads an environment variable.
func (c *Ctx) Getenv(k string) string {
	if c.Env.Getenv == nil {
		return ""
	}
	return c.Env.Getenv(k)
}

// DataDir returns the data dir from --data-dir, PVECFS_DATA_DIR or the default.
func (c *Ctx) DataDir() string {
	if d := c.Global.Get("data-dir"); d != "" {
		return d
	}
	if d := c.Opts.Get("data-dir"); d != "" {
		return d
	}
	if d := c.Getenv("PVECFS_DATA_DIR"); d != "" {
		return d
	}
	return DefaultDataDir
}

// Client returns the client for the chosen node (made on first use).
func (c *Ctx) Client() (*Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	user := c.Global.Get("user")
	if user == "" && c.Global.Get("url") != "" {
		// also from the environment: in `acl modify` `--user` means `--users`
		user = c.Getenv("PVECFS_USER")
	}
	cl, err := NewClient(ConnOptions{DataDir: c.DataDir(), URL: c.Global.Get("url"), User: user,
		Fingerprint: c.Global.Get("fingerprint"), Getenv: c.Getenv})
	if err != nil {
		return nil, err
	}
	c.client = cl
	return cl, nil
}

// Call sends a request to the node and returns the answer's data.
func (c *Ctx) Call(method, path string, params map[string][]string) (json.RawMessage, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	return cl.Do(c.Context(), method, path, params)
}

// Print prints a result in the chosen output format.
func (c *Ctx) Print(data json.RawMessage, s Schema) error {
	return c.Format.Print(c.Stdout, data, s)
}

// Main runs a program: it dispatches args through the command tree and
// returns the exit status (0 ok, 1 failure, 2 usage error). Every failure
// is reported on stderr.
func Main(prog string, cmds []*Command, env *Env, args []string) int {
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	err := run(prog, cmds, env, args)
	if err == nil {
		return 0
	}
	msg := strings.TrimRight(err.Error(), "\n")
	fmt.Fprintln(env.Stderr, msg)
	var ue *UsageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func find(cmds []*Command, name string) *Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

func names(cmds []*Command) string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func isHelp(a string) bool { return a == "--help" || a == "-help" || a == "-h" }

// leadingGlobals splits off global options given before the command
// ("pveum --data-dir DIR user list"); they are handed to the leaf command
// as if they followed it.
func leadingGlobals(args []string) (lead, rest []string) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && !isHelp(args[0]) && args[0] != "--" {
		name, hasValue := strings.TrimLeft(args[0], "-"), false
		if i := strings.IndexByte(name, '='); i >= 0 {
			name, hasValue = name[:i], true
		}
		var opt *Opt
		for _, o := range append(append([]Opt(nil), ConnOpts...), OutputOpts...) {
			if o.Name == name {
				o := o
				opt = &o
			}
		}
		if opt == nil {
			break
		}
		n := 1
		if !hasValue && opt.Type != Bool && len(args) > 1 {
			n = 2
		}
		lead = append(lead, args[:n]...)
		args = args[n:]
	}
	return lead, args
}

func run(prog string, root []*Command, env *Env, args []string) error {
	level := root
	path := []string{prog}
	lead, args := leadingGlobals(args)
	if len(args) > 0 && (args[0] == "help" || isHelp(args[0])) {
		fmt.Fprint(env.Stdout, Usage(prog, root, args[1:]))
		return nil
	}
	for {
		if len(args) == 0 {
			return usageErr("no command specified; expected one of: %s (see '%s help')", names(level), prog)
		}
		cmd := find(level, args[0])
		if cmd == nil {
			if strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
				name, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
				return usageErr("Unknown option: %s (options go after the command; see '%s help')", name, prog)
			}
			return usageErr("unknown command '%s %s' (see '%s help')", strings.Join(path, " "), args[0], prog)
		}
		if len(cmd.AliasOf) > 0 {
			args = append(append([]string(nil), cmd.AliasOf...), args[1:]...)
			level, path = root, []string{prog}
			continue
		}
		path = append(path, cmd.Name)
		args = args[1:]
		if cmd.Run == nil {
			level = cmd.Sub
			continue
		}
		if len(lead) > 0 && !cmd.Raw {
			args = append(append([]string(nil), args...), lead...)
		}
		for _, a := range args {
			if a == "--" || cmd.Raw {
				break
			}
			if isHelp(a) {
				fmt.Fprint(env.Stdout, LeafUsage(strings.Join(path, " "), cmd))
				return nil
			}
		}
		if cmd.Raw {
			return cmd.Run(&Ctx{Env: env, Prog: prog, Path: strings.Join(path[1:], " "), Args: args, Opts: Values{}, Global: Values{}})
		}
		spec := cmd.spec()
		p, err := spec.Parse(args)
		if err != nil {
			return err
		}
		c := &Ctx{Env: env, Prog: prog, Path: strings.Join(path[1:], " "), Args: p.Args, Opts: p.Opts, Global: p.Global}
		if cmd.Output {
			if c.Format, err = FormatFrom(p.Global, env.Getenv); err != nil {
				return err
			}
		} else {
			c.Format = Format{Output: FormatText}
			if env.Getenv != nil {
				c.Format.ASCII = !utf8Locale(env.Getenv)
			}
		}
		return cmd.Run(c)
	}
}

func (cmd *Command) spec() *Spec {
	s := &Spec{Args: cmd.Args, OptArgs: cmd.OptArgs, Opts: cmd.Opts}
	if !cmd.NoConn {
		s.Global = append(s.Global, ConnOpts...)
	}
	if cmd.Output {
		s.Global = append(s.Global, OutputOpts...)
	}
	return s
}

// LeafUsage renders the usage of one command.
func LeafUsage(path string, cmd *Command) string {
	var b strings.Builder
	s := cmd.spec()
	fmt.Fprintln(&b, strings.TrimRight("USAGE: "+path+" "+s.Synopsis(), " "))
	if cmd.Help != "" {
		fmt.Fprintf(&b, "\n  %s\n", cmd.Help)
	}
	opts := append(append([]Opt(nil), cmd.Opts...), s.Global...)
	if len(opts) > 0 {
		b.WriteString("\n")
	}
	for _, o := range opts {
		kind := "<string>"
		switch o.Type {
		case Bool:
			kind = "<boolean>"
		case Int:
			kind = "<integer>"
		case Secret:
			kind = "[<string>]"
		}
		fmt.Fprintf(&b, "  --%-22s %-10s %s\n", o.Name, kind, o.Help)
	}
	return b.String()
}

// Usage renders the synopsis of every command below the path words.
func Usage(prog string, root []*Command, words []string) string {
	level := root
	path := prog
	for _, w := range words {
		c := find(level, w)
		if c == nil {
			break
		}
		if len(c.AliasOf) > 0 {
			return Usage(prog, root, append(append([]string(nil), c.AliasOf...), words[1:]...))
		}
		path += " " + c.Name
		if c.Run != nil {
			return LeafUsage(path, c)
		}
		level = c.Sub
	}
	var b strings.Builder
	fmt.Fprintf(&b, "USAGE: %s <COMMAND> [ARGS] [OPTIONS]\n\n", path)
	var walk func(prefix string, cmds []*Command)
	walk = func(prefix string, cmds []*Command) {
		for _, c := range cmds {
			switch {
			case len(c.AliasOf) > 0:
				fmt.Fprintf(&b, "  %s %s\n      an alias for '%s %s'\n", prefix, c.Name, prog, strings.Join(c.AliasOf, " "))
			case c.Run != nil:
				fmt.Fprintln(&b, strings.TrimRight(fmt.Sprintf("  %s %s %s", prefix, c.Name, c.spec().Synopsis()), " "))
				if c.Help != "" {
					fmt.Fprintf(&b, "      %s\n", c.Help)
				}
			default:
				walk(prefix+" "+c.Name, c.Sub)
			}
		}
	}
	walk(path, level)
	return b.String()
}

// Secret returns the value of the environment variable envName, or asks
// for it on the terminal with prompt.
func (c *Ctx) Secret(envName, prompt string) (string, error) {
	if v := c.Getenv(envName); v != "" {
		return v, nil
	}
	if c.ReadPassword == nil {
		return "", fmt.Errorf("no terminal to ask for the password: set %s", envName)
	}
	v, err := c.ReadPassword(prompt)
	if err != nil {
		if errors.Is(err, ErrNoTerminal) {
			return "", fmt.Errorf("no terminal to ask for the password: set %s", envName)
		}
		return "", err
	}
	return v, nil
}

// NewPassword returns a new password from the environment variable
// envName, or asks for it twice on the terminal (Proxmox's
// get_confirmed_password).
func (c *Ctx) NewPassword(envName string) (string, error) {
	if v := c.Getenv(envName); v != "" {
		return v, nil
	}
	pw, err := c.Secret(envName, "Enter new password: ")
	if err != nil {
		return "", err
	}
	again, err := c.Secret(envName, "Retype new password: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("Passwords do not match.")
	}
	return pw, nil
}
