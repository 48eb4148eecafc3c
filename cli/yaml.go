package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// YAML renders v as CPAN::Meta::YAML (YAML::Tiny) dumps it, which is what
// Proxmox's `--output-format yaml` prints: a "---" document marker, sorted
// keys, two-space indent, and "-" on a line of its own before a nested
// list or map.
func YAML(v any) string {
	var lines []string
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			lines = []string{"--- []"}
		} else {
			lines = append([]string{"---"}, yamlArray(x, 0)...)
		}
	case map[string]any:
		if len(x) == 0 {
			lines = []string{"--- {}"}
		} else {
			lines = append([]string{"---"}, yamlHash(x, 0)...)
		}
	default:
		lines = []string{"--- " + yamlScalar(v, false)}
	}
	return strings.Join(lines, "\n") + "\n"
}

func yamlArray(a []any, indent int) []string {
	var lines []string
	for _, e := range a {
		line := strings.Repeat("  ", indent) + "-"
		lines = append(lines, yamlNested(line, e, indent)...)
	}
	return lines
}

func yamlHash(m map[string]any, indent int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		line := strings.Repeat("  ", indent) + yamlScalar(k, true) + ":"
		lines = append(lines, yamlNested(line, m[k], indent)...)
	}
	return lines
}

func yamlNested(line string, v any, indent int) []string {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return []string{line + " []"}
		}
		return append([]string{line}, yamlArray(x, indent+1)...)
	case map[string]any:
		if len(x) == 0 {
			return []string{line + " {}"}
		}
		return append([]string{line}, yamlHash(x, indent+1)...)
	}
	return []string{line + " " + yamlScalar(v, false)}
}

var (
	yamlNumberRE = regexp.MustCompile(`^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)\s*$|^\s*[+-]?(?i:inf(inity)?|nan)\s*$`)
	yamlSimpleRE = regexp.MustCompile("(?:^[~!@#%&*|>?:,'\"`{}\\[\\]]|^-+$|\\s|:$)")
	yamlWords    = map[string]bool{}
)

func init() {
	for _, w := range strings.Fields("null Null NULL y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF") {
		yamlWords[w] = true
	}
}

var yamlUnprintable = strings.Fields("0 x01 x02 x03 x04 x05 x06 a b t n v f r x0E x0F x10 x11 x12 x13 x14 x15 x16 x17 x18 x19 x1A e x1C x1D x1E x1F")

// yamlScalar quotes like YAML::Tiny's _dump_scalar. Numbers stay bare;
// strings that look like numbers are quoted so they read back as strings.
func yamlScalar(v any, isKey bool) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "~"
	case json.Number:
		if isKey {
			return "'" + x.String() + "'"
		}
		return x.String()
	case bool:
		if x {
			return "1"
		}
		return "0"
	case string:
		s = x
		if s == "" {
			return "''"
		}
		if yamlNumberRE.MatchString(s) {
			return "'" + s + "'"
		}
	default:
		s = fmt.Sprint(x)
	}
	needsDouble := false
	for _, r := range s {
		if r <= 0x09 || (r >= 0x0b && r <= 0x1f) || (r >= 0x7f && r <= 0x9f) || r == '\'' || r == '\n' {
			needsDouble = true
			break
		}
	}
	if needsDouble {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r == '\\':
				b.WriteString(`\\`)
			case r == '"':
				b.WriteString(`\"`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == 0x85:
				b.WriteString(`\N`)
			case r < 0x20:
				b.WriteString(`\` + yamlUnprintable[r])
			case r >= 0x7f && r <= 0x9f:
				fmt.Fprintf(&b, `\x%X`, r)
			default:
				b.WriteRune(r)
			}
		}
		return `"` + b.String() + `"`
	}
	if yamlSimpleRE.MatchString(s) || yamlWords[s] {
		return "'" + s + "'"
	}
	return s
}
