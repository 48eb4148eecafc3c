package ident

import "strings"

// NormalizePath normalises an ACL path like normalize_path: runs of '/'
// collapse, one trailing '/' is dropped, a leading '/' is added, and the
// result must consist of [A-Za-z0-9.\-_/] only. It reports false for an empty
// path, for "0" (false in Perl) and for invalid characters. A path that
// reduces to "0" becomes "/" (Perl truthiness, as upstream).
func NormalizePath(p string) (string, bool) {
	if p == "" || p == "0" {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(p) + 1)
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	s := b.String()
	s = strings.TrimSuffix(s, "/")
	if s == "" || s == "0" {
		s = "/"
	}
	if s[0] != '/' {
		s = "/" + s
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isWordish(c) && c != '/' {
			return "", false
		}
	}
	return s, true
}

// SplitPath returns the components of a normalised ACL path; "/" has none.
func SplitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func allAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// alnumUnderDash matches [[:alnum:]_\-]+.
func alnumUnderDash(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// vnetTag matches [1-9][0-9]{0,3}.
func vnetTag(s string) bool {
	return len(s) >= 1 && len(s) <= 4 && s[0] != '0' && IsPoolVMID(s)
}

// CheckPath reports whether p is on the ACL path whitelist (check_path),
// which is enforced when ACLs are added. p should already be normalised.
func CheckPath(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false
	}
	c := strings.Split(p[1:], "/")
	n := len(c)
	rest := func(f func(string) bool) bool {
		for _, x := range c[1:] {
			if !f(x) {
				return false
			}
		}
		return true
	}
	switch c[0] {
	case "access":
		switch {
		case n == 1:
			return true
		case c[1] == "groups" || c[1] == "realm":
			return n == 2 || (n == 3 && allWordish(c[2]))
		}
	case "nodes", "storage":
		return n == 1 || (n == 2 && allWordish(c[1]))
	case "mapping":
		return n <= 3 && rest(allWordish)
	case "pool":
		return n <= 4 && rest(allWordish)
	case "vms":
		return n == 1 || (n == 2 && len(c[1]) >= 3 && c[1][0] != '0' && IsPoolVMID(c[1]))
	case "sdn":
		if n == 1 {
			return true
		}
		switch c[1] {
		case "controllers":
			return n == 2 || (n == 3 && alnumUnderDash(c[2]))
		case "dns", "fabrics", "ipams", "prefix-lists", "route-maps":
			return n == 2 || (n == 3 && allAlnum(c[2]))
		case "zones":
			switch n {
			case 2:
				return true
			case 3:
				return allWordish(c[2])
			case 4:
				return allWordish(c[2]) && allWordish(c[3])
			case 5:
				return allWordish(c[2]) && allWordish(c[3]) && vnetTag(c[4])
			}
		}
	}
	return false
}

// SplitList splits a list like PVE::Tools::split_list: on NUL when the text
// contains one (empty inner items kept, trailing ones dropped), otherwise on
// runs of ',', ';' and whitespace, ignoring empty items.
func SplitList(s string) []string {
	if strings.IndexByte(s, 0) >= 0 {
		parts := strings.Split(s, "\x00")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		return parts
	}
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		sep := i == len(s) || s[i] == ',' || s[i] == ';' || IsSpace(s[i])
		if sep {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}
