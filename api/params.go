package api

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Param types (JSON schema types as Proxmox declares them).
const (
	TString  = "string"
	TBoolean = "boolean"
	TInteger = "integer"
	TNumber  = "number"
)

// Param declares one API parameter, as the Proxmox schema does.
type Param struct {
	Name      string
	Type      string // TString (default), TBoolean, TInteger, TNumber
	Optional  bool
	Pattern   *regexp.Regexp // anchored by the caller
	MinLength int
	MaxLength int
	Min, Max  *int64
	Enum      []string
	// Format validates the value; its error becomes "invalid format - <msg>"
	// unless it returns a *FormatError carrying Proxmox's exact text.
	Format  func(string) error
	Default string
	// List marks a Proxmox "-list" format: a JSON array is accepted and
	// joined with ",". Other parameters refuse arrays.
	List bool
}

// FormatError is a parameter error message used verbatim.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

// Int64 is a helper for Param.Min/Max.
func Int64(v int64) *int64 { return &v }

// Params holds a request's validated parameters as strings; booleans are
// "0"/"1", lists are comma separated.
type Params map[string]string

// Has reports whether the parameter was given.
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// Get returns a parameter or "".
func (p Params) Get(name string) string { return p[name] }

// Bool returns a boolean parameter (def if absent).
func (p Params) Bool(name string, def bool) bool {
	v, ok := p[name]
	if !ok {
		return def
	}
	return v == "1"
}

// Int returns an integer parameter (def if absent).
func (p Params) Int(name string, def int64) int64 {
	v, ok := p[name]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// arrayMark prefixes a value that arrived as a JSON array, so validation
// can refuse it for parameters that are not lists (it cannot occur in
// decoded text).
const arrayMark = "\x00array\x00"

// rawParams reads query, form or JSON body into name -> value. JSON
// booleans become 0/1; arrays are joined with "," and marked. Query
// parameters override body parameters.
func rawParams(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			return nil, Errorf(400, "unable to read request body: %v", err)
		}
		switch {
		case len(strings.TrimSpace(string(body))) == 0:
		case ct == "application/json":
			var m map[string]any
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.UseNumber()
			if err := dec.Decode(&m); err != nil {
				return nil, Errorf(400, "unable to parse JSON request body: %v", err)
			}
			for k, v := range m {
				s, ok, err := jsonScalar(v)
				if err != nil {
					return nil, ParamErr(k, err.Error())
				}
				if ok {
					if _, isArray := v.([]any); isArray {
						s = arrayMark + s
					}
					out[k] = s
				}
			}
		default:
			vals, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, Errorf(400, "unable to parse request body: %v", err)
			}
			for k, v := range vals {
				out[k] = strings.Join(v, ",")
			}
		}
	}
	for k, v := range r.URL.Query() {
		out[k] = strings.Join(v, ",")
	}
	return out, nil
}

func jsonScalar(v any) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case bool:
		if x {
			return "1", true, nil
		}
		return "0", true, nil
	case string:
		return x, true, nil
	case json.Number:
		return x.String(), true, nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok, err := jsonScalar(e)
			if err != nil {
				return "", false, err
			}
			if ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ","), true, nil
	}
	return "", false, fmt.Errorf("type check failed - got an object")
}

var (
	intRE = regexp.MustCompile(`^[+-]?\d+$`)
	numRE = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)
)

// validate checks raw against the declared params and returns the
// normalised values, or a 400 naming every bad parameter.
func validate(decl []Param, raw map[string]string, pathVars map[string]string) (Params, error) {
	errs := map[string]string{}
	out := Params{}
	known := map[string]bool{}
	for k, v := range pathVars {
		if rv, ok := raw[k]; ok && rv != v {
			return nil, Errorf(400, "duplicate parameter (already defined in URI) with conflicting values!")
		}
		raw[k] = v
	}
	for _, p := range decl {
		known[p.Name] = true
		v, ok := raw[p.Name]
		if !ok {
			if !p.Optional {
				errs[p.Name] = "property is missing and it is not optional"
			} else if p.Default != "" {
				out[p.Name] = p.Default
			}
			continue
		}
		if strings.HasPrefix(v, arrayMark) {
			if !p.List {
				t := p.Type
				if t == "" {
					t = TString
				}
				errs[p.Name] = fmt.Sprintf("type check ('%s') failed - got ARRAY", t)
				continue
			}
			v = strings.TrimPrefix(v, arrayMark)
		}
		nv, msg := checkValue(p, v)
		if msg != "" {
			errs[p.Name] = msg
			continue
		}
		out[p.Name] = nv
	}
	for k := range raw {
		if !known[k] {
			errs[k] = "property is not defined in schema and the schema does not allow additional properties"
		}
	}
	if len(errs) > 0 {
		return nil, ParamError(errs)
	}
	return out, nil
}

func checkValue(p Param, v string) (string, string) {
	switch p.Type {
	case TBoolean:
		// Proxmox's JSONSchema accepts exactly 1 and 0 (JSON true/false
		// in a JSON body were turned into 1/0 already).
		switch v {
		case "1":
			return "1", ""
		case "0":
			return "0", ""
		}
		return "", fmt.Sprintf("type check ('boolean') failed - got '%s'", v)
	case TInteger, TNumber:
		re := intRE
		if p.Type == TNumber {
			re = numRE
		}
		if !re.MatchString(v) {
			return "", fmt.Sprintf("type check ('%s') failed - got '%s'", p.Type, v)
		}
		if p.Type == TInteger {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "", fmt.Sprintf("type check ('integer') failed - got '%s'", v)
			}
			if p.Min != nil && n < *p.Min {
				return "", fmt.Sprintf("value must have a minimum value of %d", *p.Min)
			}
			if p.Max != nil && n > *p.Max {
				return "", fmt.Sprintf("value must have a maximum value of %d", *p.Max)
			}
			return strconv.FormatInt(n, 10), ""
		}
		return v, ""
	}
	if p.MaxLength > 0 && len(v) > p.MaxLength {
		return "", fmt.Sprintf("value may only be %d characters long", p.MaxLength)
	}
	if p.MinLength > 0 && len(v) < p.MinLength {
		return "", fmt.Sprintf("value must be at least %d characters long", p.MinLength)
	}
	if len(p.Enum) > 0 {
		found := false
		for _, e := range p.Enum {
			if e == v {
				found = true
			}
		}
		if !found {
			en := append([]string(nil), p.Enum...)
			sort.Strings(en)
			return "", fmt.Sprintf("value '%s' does not have a value in the enumeration '%s'", v, strings.Join(en, ", "))
		}
	}
	if p.Pattern != nil && !p.Pattern.MatchString(v) {
		return "", "value does not match the regex pattern"
	}
	if p.Format != nil {
		if err := p.Format(v); err != nil {
			if fe, ok := err.(*FormatError); ok {
				return "", fe.Msg
			}
			return "", "invalid format - " + err.Error()
		}
	}
	return v, ""
}
