package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestMainDispatch(t *testing.T) {
	var got []string
	leaf := func(c *Ctx) error {
		got = append(got, c.Path+"|"+strings.Join(c.Args, ",")+"|"+c.Opts.Get("comment")+"|"+c.Format.Output)
		return nil
	}
	cmds := []*Command{
		{Name: "user", Sub: []*Command{
			{Name: "add", Args: []string{"userid"}, Opts: []Opt{{Name: "comment", Type: String}}, Run: leaf},
			{Name: "delete", Aliases: []string{"remove"}, Args: []string{"userid"}, Run: leaf},
			{Name: "list", Output: true, Run: leaf},
			{Name: "fail", Run: func(c *Ctx) error { return errors.New("boom\n") }},
		}},
		{Name: "useradd", AliasOf: []string{"user", "add"}},
	}
	tests := []struct {
		args     []string
		code     int
		want     string
		stdout   string
		stderrIn string
	}{
		{[]string{"user", "add", "a@pve", "-comment", "hi"}, 0, "user add|a@pve|hi|text", "", ""},
		{[]string{"useradd", "a@pve", "--comment=x"}, 0, "user add|a@pve|x|text", "", ""},
		{[]string{"user", "remove", "a@pve"}, 0, "user delete|a@pve||text", "", ""},
		{[]string{"user", "list", "--output-format", "json"}, 0, "user list|||json", "", ""},
		{[]string{"user", "list", "--output-format", "xml"}, 2, "", "", "output-format"},
		{[]string{"user", "add", "a@pve", "--output-format", "json"}, 2, "", "", "Unknown option: output-format"},
		{[]string{"user", "bogus"}, 2, "", "", "unknown command 'pveum user bogus'"},
		{[]string{"user"}, 2, "", "", "no command specified; expected one of: add, delete, fail, list"},
		{[]string{}, 2, "", "", "no command specified"},
		{[]string{"user", "fail"}, 1, "", "", "boom"},
		{[]string{"help"}, 0, "", "pveum user add <userid> [OPTIONS]", ""},
		{[]string{"user", "add", "--help"}, 0, "", "USAGE: pveum user add <userid> [OPTIONS]", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got = nil
			var out, errb bytes.Buffer
			code := Main("pveum", cmds, &Env{Stdout: &out, Stderr: &errb}, tt.args)
			if code != tt.code {
				t.Fatalf("code %d, stderr %q", code, errb.String())
			}
			if tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
				t.Fatalf("ran %q, want %q", got, tt.want)
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Fatalf("stdout %q", out.String())
			}
			if tt.stderrIn != "" {
				if !strings.Contains(errb.String(), tt.stderrIn) || strings.Count(errb.String(), "\n") != 1 {
					t.Fatalf("stderr %q, want one line with %q", errb.String(), tt.stderrIn)
				}
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	prompts := []string{}
	answers := []string{"pw1", "pw1", "pw2", "other"}
	c := &Ctx{Env: &Env{ReadPassword: func(p string) (string, error) {
		prompts = append(prompts, p)
		a := answers[0]
		answers = answers[1:]
		return a, nil
	}}}
	if pw, err := c.NewPassword("NOPE"); err != nil || pw != "pw1" {
		t.Fatalf("%q %v", pw, err)
	}
	if _, err := c.NewPassword("NOPE"); err == nil || err.Error() != "Passwords do not match." {
		t.Fatalf("err %v", err)
	}
	if prompts[0] != "Enter new password: " || prompts[1] != "Retype new password: " {
		t.Fatalf("prompts %q", prompts)
	}
	c.Env.Getenv = func(k string) string {
		if k == "PW" {
			return "fromenv"
		}
		return ""
	}
	if pw, err := c.Secret("PW", "x"); err != nil || pw != "fromenv" {
		t.Fatalf("%q %v", pw, err)
	}
	c.Env.ReadPassword = func(string) (string, error) { return "", ErrNoTerminal }
	if _, err := c.Secret("OTHER", "x"); err == nil || !strings.Contains(err.Error(), "set OTHER") {
		t.Fatalf("err %v", err)
	}
}

func TestLoginUserFromEnv(t *testing.T) {
	env := map[string]string{"PVECFS_USER": "root@pam", "PVECFS_PASSWORD": "pw"}
	getenv := func(k string) string { return env[k] }
	// `--user` is the command's own `--users` here; the login user comes from PVECFS_USER
	cmds := []*Command{{Name: "aclmod", Args: []string{"path"}, Opts: []Opt{{Name: "users", Type: List}}, Run: func(c *Ctx) error {
		if c.Opts.Get("users") != "joe@pve" {
			return errors.New("users not parsed")
		}
		cl, err := c.Client()
		if err != nil {
			return err
		}
		if cl.user != "root@pam" || cl.password != "pw" {
			return errors.New("login user not taken from PVECFS_USER")
		}
		return nil
	}}}
	var errb bytes.Buffer
	code := Main("pveum", cmds, &Env{Stderr: &errb, Getenv: getenv},
		[]string{"aclmod", "/", "-user", "joe@pve", "--url", "https://h:8006", "--fingerprint", strings.Repeat("AA:", 31) + "AA"})
	if code != 0 {
		t.Fatalf("exit %d %s", code, errb.String())
	}
}
