package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Output formats of --output-format.
const (
	// FormatText prints bordered tables (Proxmox's default).
	FormatText = "text"
	// FormatJSON prints canonical compact JSON and a newline.
	FormatJSON = "json"
	// FormatJSONPretty prints Perl JSON's canonical pretty form.
	FormatJSONPretty = "json-pretty"
	// FormatYAML prints YAML as CPAN::Meta::YAML dumps it.
	FormatYAML = "yaml"
)

// Column types (JSON schema types; they decide text rendering and sorting).
const (
	// TString is a text column (left as is).
	TString = "string"
	// TInteger is an integer column (sorted numerically).
	TInteger = "integer"
	// TNumber is a number column (sorted numerically).
	TNumber = "number"
	// TBoolean is a boolean column (printed 0/1).
	TBoolean = "boolean"
)

// Column is one property of a result, as a table column or key row.
type Column struct {
	// Name is the property name.
	Name string
	// Title is the header text (default Name).
	Title string
	// Type is TString (default), TInteger, TNumber or TBoolean.
	Type string
	// Optional marks a property that may be absent (ordering, see Columns).
	Optional bool
}

// Columns orders properties as Proxmox's CLI does: required ones sorted,
// then optional ones sorted.
func Columns(cols ...Column) []Column {
	out := append([]Column(nil), cols...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Optional != out[j].Optional {
			return !out[i].Optional
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Kind is the shape of a result.
type Kind int

// Result shapes.
const (
	// KindNull prints nothing in every format (Proxmox: returns type null).
	KindNull Kind = iota
	// KindList is an array of objects: a table in text.
	KindList
	// KindObject is an object: a key/value table in text.
	KindObject
	// KindScalar is a string or number printed on a line.
	KindScalar
	// KindArray is an array of scalars: one per line in text.
	KindArray
)

// Schema describes a result for printing.
type Schema struct {
	Kind Kind
	// Columns are the list columns, or the object keys to show in text (nil:
	// every key, sorted).
	Columns []Column
}

// Format holds the standard output options.
type Format struct {
	// Output is text, json, json-pretty or yaml.
	Output string
	// NoBorder prints text tables without borders.
	NoBorder bool
	// NoHeader prints text tables without the header row.
	NoHeader bool
	// Quiet prints nothing.
	Quiet bool
	// ASCII draws borders with +-| instead of box-drawing characters.
	ASCII bool
}

// OutputOpts are the standard output options every printing command takes.
var OutputOpts = []Opt{
	{Name: "output-format", Type: String, Help: "text|json|json-pretty|yaml (default text)"},
	{Name: "noborder", Type: Bool, Help: "text tables without border"},
	{Name: "noheader", Type: Bool, Help: "text tables without header"},
	{Name: "quiet", Type: Bool, Help: "print nothing"},
	{Name: "human-readable", Type: Bool, Help: "accepted for compatibility"},
}

// FormatFrom reads the output options; getenv decides ASCII borders from
// the locale (LC_ALL, LC_CTYPE, LANG) as Proxmox does from the codeset.
func FormatFrom(v Values, getenv func(string) string) (Format, error) {
	f := Format{Output: FormatText, NoBorder: v.Bool("noborder", false), NoHeader: v.Bool("noheader", false), Quiet: v.Bool("quiet", false)}
	if v.Has("output-format") {
		f.Output = v.Get("output-format")
	}
	switch f.Output {
	case FormatText, FormatJSON, FormatJSONPretty, FormatYAML:
	default:
		return f, usageErr("output-format: value '%s' does not have a value in the enumeration 'json, json-pretty, text, yaml'", f.Output)
	}
	if getenv != nil {
		f.ASCII = !utf8Locale(getenv)
	}
	return f, nil
}

// utf8Locale reports whether the locale allows UTF-8 output: unset counts
// as UTF-8; "C"/"POSIX" or another charset do not.
func utf8Locale(getenv func(string) string) bool {
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(k); v != "" {
			loc = v
			break
		}
	}
	if loc == "" {
		return true
	}
	l := strings.ToLower(loc)
	return strings.Contains(l, "utf-8") || strings.Contains(l, "utf8")
}

// Decode parses JSON keeping numbers as json.Number.
func Decode(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON answer: %w", err)
	}
	return v, nil
}

// Print prints an API result in the chosen format.
func (f Format) Print(w io.Writer, data json.RawMessage, s Schema) error {
	if f.Quiet || s.Kind == KindNull {
		return nil
	}
	v, err := Decode(data)
	if err != nil {
		return err
	}
	return f.PrintValue(w, v, s)
}

// PrintValue prints a decoded value in the chosen format.
func (f Format) PrintValue(w io.Writer, v any, s Schema) error {
	if f.Quiet || s.Kind == KindNull {
		return nil
	}
	var out string
	switch f.Output {
	case FormatJSON:
		out = JSONCompact(v) + "\n"
	case FormatJSONPretty:
		out = JSONPretty(v)
	case FormatYAML:
		out = YAML(v)
	default:
		out = f.text(v, s)
	}
	_, err := io.WriteString(w, out)
	return err
}

func (f Format) text(v any, s Schema) string {
	switch s.Kind {
	case KindList:
		arr, _ := v.([]any)
		rows := make([]map[string]any, 0, len(arr))
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				rows = append(rows, m)
			}
		}
		if len(rows) == 0 {
			return ""
		}
		cols := s.Columns
		if len(cols) == 0 {
			cols = keysOf(rows)
		}
		return f.Table(rows, cols, true)
	case KindObject:
		m, ok := v.(map[string]any)
		if !ok {
			return scalarLine(v)
		}
		return f.KeyValue(m, s.Columns)
	case KindArray:
		arr, ok := v.([]any)
		if !ok {
			return scalarLine(v)
		}
		if len(arr) == 0 {
			return ""
		}
		rows := make([]map[string]any, len(arr))
		for i, e := range arr {
			rows[i] = map[string]any{"value": e}
		}
		g := f
		g.NoHeader = true
		return g.Table(rows, []Column{{Name: "value"}}, false)
	default:
		return scalarLine(v)
	}
}

func scalarLine(v any) string {
	if v == nil {
		return "\n"
	}
	return TextValue(v, Column{}) + "\n"
}

func keysOf(rows []map[string]any) []Column {
	seen := map[string]bool{}
	var names []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n}
	}
	return cols
}

// KeyValue renders an object as Proxmox's two-column key/value table.
// keys nil means every key, sorted; absent values are left out.
func (f Format) KeyValue(m map[string]any, keys []Column) string {
	if keys == nil {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, n := range names {
			keys = append(keys, Column{Name: n})
		}
	}
	var rows []map[string]any
	for _, k := range keys {
		v, ok := m[k.Name]
		if !ok || v == nil {
			continue
		}
		rows = append(rows, map[string]any{"key": k.Name, "value": TextValue(v, k)})
	}
	if len(rows) == 0 {
		return ""
	}
	return f.Table(rows, []Column{{Name: "key"}, {Name: "value"}}, true)
}

// TextValue renders one value as Proxmox's data_to_text: booleans as 0/1,
// objects and arrays as canonical JSON, absent as "".
func TextValue(v any, c Column) string {
	if v == nil {
		return ""
	}
	if c.Type == TBoolean {
		if truthy(v) {
			return "1"
		}
		return "0"
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return JSONCompact(v)
}

// truthy is Perl truth: not "", "0", 0 or false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != "" && x != "0"
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	}
	return true
}

type cell struct {
	lines []string
}

// Table renders rows as Proxmox's print_text_table: columns in the given
// order, rows sorted by the first column when sortRows is set.
func (f Format) Table(rows []map[string]any, cols []Column, sortRows bool) string {
	if len(cols) == 0 {
		return ""
	}
	rows = append([]map[string]any(nil), rows...)
	if sortRows {
		key := cols[0]
		numeric := key.Type == TInteger || key.Type == TNumber
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := rows[i][key.Name], rows[j][key.Name]
			if numeric {
				return num(a) < num(b)
			}
			return TextValue(a, key) < TextValue(b, key)
		})
	}
	widths := make([]int, len(cols))
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.Title
		if titles[i] == "" {
			titles[i] = c.Name
		}
		widths[i] = utf8.RuneCountInString(titles[i])
	}
	table := make([][]cell, len(rows))
	heights := make([]int, len(rows))
	for r, row := range rows {
		table[r] = make([]cell, len(cols))
		heights[r] = 1
		for i, c := range cols {
			text := TextValue(row[c.Name], c)
			lines := strings.Split(text, "\n")
			// Perl's split drops trailing empty fields
			for len(lines) > 0 && lines[len(lines)-1] == "" {
				lines = lines[:len(lines)-1]
			}
			table[r][i] = cell{lines: lines}
			if len(lines) > heights[r] {
				heights[r] = len(lines)
			}
			for _, l := range lines {
				if n := utf8.RuneCountInString(l); n > widths[i] {
					widths[i] = n
				}
			}
		}
	}
	var b strings.Builder
	border := !f.NoBorder
	header := !f.NoHeader
	h, v := "─", "│"
	hh := "═"
	corners := [4][3]string{{"┌", "┬", "┐"}, {"╞", "╪", "╡"}, {"├", "┼", "┤"}, {"└", "┴", "┘"}}
	if f.ASCII {
		h, v, hh = "-", "|", "="
		corners = [4][3]string{{"+", "+", "+"}, {"+", "+", "+"}, {"+", "+", "+"}, {"+", "+", "+"}}
	}
	rule := func(k int, fill string) {
		for i, wd := range widths {
			switch i {
			case 0:
				b.WriteString(corners[k][0])
			default:
				b.WriteString(corners[k][1])
			}
			b.WriteString(strings.Repeat(fill, wd+2))
		}
		b.WriteString(corners[k][2])
		b.WriteByte('\n')
	}
	line := func(texts []string) {
		for i, t := range texts {
			pad := widths[i] - utf8.RuneCountInString(t)
			if border {
				b.WriteString(v + " " + t + strings.Repeat(" ", pad) + " ")
				continue
			}
			if i == len(texts)-1 {
				b.WriteString(t)
			} else {
				b.WriteString(t + strings.Repeat(" ", pad) + " ")
			}
		}
		if border {
			b.WriteString(v)
		}
		b.WriteByte('\n')
	}
	if border {
		rule(0, h)
	}
	if header {
		line(titles)
	}
	for r := range table {
		if border && (r != 0 || header) {
			if r == 0 {
				rule(1, hh)
			} else {
				rule(2, h)
			}
		}
		for l := 0; l < heights[r]; l++ {
			texts := make([]string, len(cols))
			for i := range cols {
				if l < len(table[r][i].lines) {
					texts[i] = table[r][i].lines[l]
				}
			}
			line(texts)
		}
	}
	if border {
		rule(3, h)
	}
	return b.String()
}

func num(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

// JSONCompact encodes v as canonical JSON (sorted keys, no spaces, UTF-8
// kept), as Proxmox's `--output-format json`.
func JSONCompact(v any) string {
	var b strings.Builder
	writeJSON(&b, v, -1, 0)
	return b.String()
}

// JSONPretty encodes v as Perl JSON's canonical pretty output, which
// Proxmox's `--output-format json-pretty` prints: three-space indent,
// `"key" : value`, and a final newline.
func JSONPretty(v any) string {
	var b strings.Builder
	writeJSON(&b, v, 3, 0)
	b.WriteByte('\n')
	return b.String()
}

func writeJSON(b *strings.Builder, v any, indent, depth int) {
	nl := func(d int) {
		if indent >= 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(x.String())
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case string:
		writeJSONString(b, x)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeJSON(b, e, indent, depth+1)
		}
		nl(depth)
		b.WriteByte(']')
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeJSONString(b, k)
			if indent >= 0 {
				b.WriteString(" : ")
			} else {
				b.WriteByte(':')
			}
			writeJSON(b, x[k], indent, depth+1)
		}
		nl(depth)
		b.WriteByte('}')
	default:
		// anything else: through encoding/json, then re-decoded
		raw, err := json.Marshal(x)
		if err != nil {
			b.WriteString("null")
			return
		}
		dv, err := Decode(raw)
		if err != nil {
			b.WriteString("null")
			return
		}
		writeJSON(b, dv, indent, depth)
	}
}

// writeJSONString escapes as Perl's JSON: '"', '\\' and control
// characters; everything else (including '/' and non-ASCII) stays.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
