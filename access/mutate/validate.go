package mutate

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pvecfs/pvecfs/access/ident"
)

// Schema limits of the user API (reference access-control.md §3).
const (
	maxNameLen        = 1024 // firstname, lastname
	maxUserCommentLen = 2048
	maxEmailLen       = 254
	maxKeysLen        = 4096
)

var (
	// emailRe is PVE::Tools::EMAIL_RE, anchored; Perl's \w on decoded text
	// matches Unicode word characters.
	emailRe = regexp.MustCompile(`^[\p{L}\p{M}\p{Nd}\p{Pc}+\-~]+(\.[\p{L}\p{M}\p{Nd}\p{Pc}+\-~]+)*@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)*$`)
	keysRe  = regexp.MustCompile(`^[0-9a-zA-Z!=]*$`)
)

func checkUserid(param, s string) error {
	if err := ident.VerifyUsername(s); err != nil {
		return formatErr(param, err)
	}
	// Proxmox's user regex allows ',' and ';', but group member and ACL
	// lists are split on them when user.cfg is read again: such a user could
	// not survive a re-read (the model must equal its bytes), so refuse it.
	if strings.ContainsAny(s, ",;") {
		return formatErr(param, fmt.Errorf("user name '%s' contains a list separator (',' or ';')", s))
	}
	return nil
}

// checkGroupid checks a group name. "0" is refused as well: the parser
// drops a group of that name, so it could not survive a re-read.
func checkGroupid(param, s string) error {
	if _, err := ident.ParseGroupID(s); err != nil || s == "0" {
		return formatErr(param, fmt.Errorf("group name '%s' contains invalid characters", s))
	}
	return nil
}

// checkRoleid checks a role name ("0" refused as for groups).
func checkRoleid(param, s string) error {
	if _, err := ident.ParseRoleID(s); err != nil || s == "0" {
		return formatErr(param, fmt.Errorf("role name '%s' contains invalid characters", s))
	}
	return nil
}

func checkTokenName(param, s string) error {
	if _, err := ident.ParseTokenName(s); err != nil {
		return paramErr(param, "value does not match the regex pattern")
	}
	return nil
}

func checkExpire(param string, v *int64) error {
	if v != nil && *v < 0 {
		return paramErr(param, "value must have a minimum value of 0")
	}
	return nil
}

func checkMaxLen(param string, s *string, max int) error {
	if s != nil && utf8.RuneCountInString(*s) > max {
		return paramErr(param, fmt.Sprintf("value may only be %d characters long", max))
	}
	return nil
}

// checkEmail is format email-opt: empty, or an address matching EMAIL_RE.
func checkEmail(param string, s *string) error {
	if s == nil || *s == "" {
		return nil
	}
	if err := checkMaxLen(param, s, maxEmailLen); err != nil {
		return err
	}
	if !emailRe.MatchString(*s) {
		return formatErr(param, fmt.Errorf("value does not look like a valid email address"))
	}
	return nil
}

func checkKeys(param string, s *string) error {
	if s == nil {
		return nil
	}
	if err := checkMaxLen(param, s, maxKeysLen); err != nil {
		return err
	}
	if !keysRe.MatchString(*s) {
		return paramErr(param, "value does not match the regex pattern")
	}
	return nil
}

// checkPasswordHash refuses anything but a crypt(3) hash: passwords are
// hashed by the receiving node before the log and never travel in clear.
func checkPasswordHash(h string) error {
	ok := false
	for _, p := range []string{"$1$", "$5$", "$6$", "$y$"} {
		if strings.HasPrefix(h, p) && len(h) > len(p) {
			ok = true
		}
	}
	if !ok || strings.ContainsAny(h, ": \t\n\v\f\r") {
		return invalid("password must be given as a crypt(3) hash")
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// canonText is the value a user.cfg text field keeps through a write and a
// re-read (usercfg's parser): leading and trailing spaces are lost, and ""
// and "0" read as empty.
func canonText(s string) string {
	s = strings.Trim(s, " ")
	if s == "0" {
		return ""
	}
	return s
}

// canonRaw is canonText for the raw (not encoded) fields email and keys,
// whose surrounding whitespace the parser trims.
func canonRaw(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && ident.IsSpace(byte(r)) })
	if s == "0" {
		return ""
	}
	return s
}

// truthy is Perl truthiness of a string.
func truthy(s string) bool { return s != "" && s != "0" }
