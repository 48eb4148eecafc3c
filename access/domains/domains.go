// Package domains implements domains.cfg, the authentication realms, in
// Proxmox's SectionConfig format:
//
//	<type>: <realm>
//		<key> <value>
//		...
//	<blank line>
//
// The realms "pve" and "pam" always exist. Realm types are pam, pve, ldap, ad
// and openid, each with its options and value checks as in PVE::Auth::*.
package domains

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pvecfs/pvecfs/cfs"
)

// Path is the file's path relative to the tree root.
const Path = "domains.cfg"

// fileName is how warnings name the file (Proxmox parses "/etc/pve/<path>").
const fileName = "/etc/pve/" + Path

// Comments given to the built-in realms when they have none.
const (
	DefaultPVEComment = "Proxmox VE authentication server"
	DefaultPAMComment = "Linux PAM standard authentication"
)

// pamPlugin is the extra key Proxmox adds to the pam realm when parsing; it is
// never written but shows in GET /access/domains/pam.
const pamPlugin = "PVE::Auth::PAM"

// Realm is one immutable section of domains.cfg. Option values are kept as
// Proxmox holds them after parsing: booleans "0"/"1", integers in decimal,
// the comment decoded.
type Realm struct {
	name string
	typ  string
	opts map[string]string
}

// Domains is the immutable model of domains.cfg: the realms in file order.
// Changes return new values.
type Domains struct {
	realms []*Realm
}

var _ cfs.Model = (*Domains)(nil)

// Format returns the registered format of domains.cfg.
func Format() cfs.Format {
	return cfs.Format{
		Path: Path,
		Parse: func(data []byte) (cfs.Model, []string, error) {
			d, warnings := Parse(data)
			return d, warnings, nil
		},
	}
}

// New returns the configuration of an empty file: just the realms pve and pam.
func New() *Domains {
	d, _ := Parse(nil)
	return d
}

// NewRealm builds a realm of the given type from option values, checking each
// as the parser does. Values are canonicalised (e.g. port "+0389" is 389).
func NewRealm(name, typ string, opts map[string]string) (*Realm, error) {
	if !realmRe.MatchString(name) {
		return nil, fmt.Errorf("realm '%s': value does not look like a valid realm", name)
	}
	if _, ok := typeOptions[typ]; !ok {
		return nil, fmt.Errorf("realm '%s': unsupported type '%s'", name, typ)
	}
	r := &Realm{name: name, typ: typ, opts: make(map[string]string, len(opts))}
	for _, k := range sortedKeys(opts) {
		v, msg := checkValue(typ, k, opts[k], true, byteLen)
		if msg != "" {
			return nil, fmt.Errorf("realm '%s': unable to parse value of '%s': %s", name, k, strings.TrimRight(msg, "\n"))
		}
		if k != "type" {
			r.opts[k] = v
		}
	}
	required, _ := sortedOptions(typ)
	for _, k := range required {
		if _, ok := r.opts[k]; !ok {
			return nil, fmt.Errorf("realm '%s': missing value for required option '%s'", name, k)
		}
	}
	return r, nil
}

// Name returns the realm id.
func (r *Realm) Name() string { return r.name }

// Type returns the realm type (pam, pve, ldap, ad or openid).
func (r *Realm) Type() string { return r.typ }

// Get returns an option's value.
func (r *Realm) Get(key string) (string, bool) {
	v, ok := r.opts[key]
	return v, ok
}

// Keys returns the set options, sorted.
func (r *Realm) Keys() []string { return sortedKeys(r.opts) }

// Comment returns the realm's comment (decoded text).
func (r *Realm) Comment() string { return r.opts["comment"] }

// IsDefault reports whether this is the default realm of the login form.
func (r *Realm) IsDefault() bool { return perlTrue(r.opts["default"]) }

// Bool returns a boolean option, or def when it is not set.
func (r *Realm) Bool(key string, def bool) bool {
	v, ok := r.opts[key]
	if !ok {
		return def
	}
	return perlTrue(v)
}

// CaseSensitive reports whether user names of this realm are case-sensitive
// (option case-sensitive, default 1).
func (r *Realm) CaseSensitive() bool { return r.Bool("case-sensitive", true) }

// TFAType returns the type of the realm's "tfa" option (yubico or oath), or "".
func (r *Realm) TFAType() string {
	v := r.opts["tfa"]
	if !perlTrue(v) {
		return ""
	}
	parsed, msg := parsePropertyString(tfaFormat, v)
	if msg != "" {
		return ""
	}
	return parsed["type"]
}

// Properties returns the realm's section as GET /access/domains/{realm}
// reports it (without the digest): "type" and every option, booleans and
// integers as numbers.
func (r *Realm) Properties() map[string]any {
	out := make(map[string]any, len(r.opts)+2)
	out["type"] = r.typ
	if r.name == "pam" {
		out["plugin"] = pamPlugin
	}
	for k, v := range r.opts {
		if p := props[k]; p != nil && p.kind != kString {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[k] = n
				continue
			}
		}
		out[k] = v
	}
	return out
}

func (r *Realm) clone() *Realm {
	c := &Realm{name: r.name, typ: r.typ, opts: make(map[string]string, len(r.opts)+1)}
	for k, v := range r.opts {
		c.opts[k] = v
	}
	return c
}

// Realms returns the realms in file order.
func (d *Domains) Realms() []*Realm {
	return append([]*Realm(nil), d.list()...)
}

func (d *Domains) list() []*Realm {
	if d == nil {
		return nil
	}
	return d.realms
}

// Realm returns a realm by id.
func (d *Domains) Realm(name string) (*Realm, bool) {
	for _, r := range d.list() {
		if r.name == name {
			return r, true
		}
	}
	return nil, false
}

// Default returns the id of the default realm, if one is marked.
func (d *Domains) Default() (string, bool) {
	for _, r := range d.list() {
		if r.IsDefault() {
			return r.name, true
		}
	}
	return "", false
}

// Render writes the file as SectionConfig's writer does: sections in order,
// each the header, the comment, the required options and then the optional
// ones (each group sorted), and a blank line.
func (d *Domains) Render() []byte {
	var b strings.Builder
	for _, r := range d.list() {
		b.WriteString(r.typ + ": " + r.name + "\n")
		if c := r.opts["comment"]; perlTrue(c) {
			b.WriteString("\tcomment " + encodeText(c) + "\n")
		}
		required, optional := sortedOptions(r.typ)
		for _, group := range [][]string{required, optional} {
			for _, k := range group {
				if k == "comment" {
					continue
				}
				v, ok := r.opts[k]
				if !ok {
					continue
				}
				if props[k].kind == kBool {
					if perlTrue(v) {
						v = "1"
					} else {
						v = "0"
					}
				} else if v == "" {
					continue
				}
				b.WriteString("\t" + k + " " + v + "\n")
			}
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// Digest returns the SHA-1 hex digest Proxmox reports for the file and checks
// "digest" parameters against: that of the file's bytes.
func (d *Domains) Digest() string {
	sum := sha1.Sum(d.Render())
	return hex.EncodeToString(sum[:])
}

// IndexEntry is one element of GET /access/domains.
type IndexEntry struct {
	Realm   string `json:"realm"`             // realm id
	Type    string `json:"type"`              // realm type
	Comment string `json:"comment,omitempty"` // comment, if set
	Default int    `json:"default,omitempty"` // 1 for the default realm
	TFA     string `json:"tfa,omitempty"`     // realm TFA type (yubico or oath), if set
}

// Index returns what GET /access/domains lists, in file order.
func (d *Domains) Index() []IndexEntry {
	out := make([]IndexEntry, 0, len(d.list()))
	for _, r := range d.list() {
		e := IndexEntry{Realm: r.name, Type: r.typ, TFA: r.TFAType()}
		if c := r.Comment(); perlTrue(c) {
			e.Comment = c
		}
		if r.IsDefault() {
			e.Default = 1
		}
		out = append(out, e)
	}
	return out
}

// Read returns what GET /access/domains/{realm} answers: the section's
// properties plus the file digest. For LDAP and AD realms the
// sync-defaults-options are shown with deprecated flags mapped, as Proxmox
// does.
func (d *Domains) Read(name string) (map[string]any, error) {
	r, ok := d.Realm(name)
	if !ok {
		return nil, fmt.Errorf("domain '%s' does not exist", name)
	}
	out := r.Properties()
	if r.typ == TypeLDAP || r.typ == TypeAD {
		if v, ok := r.opts["sync-defaults-options"]; ok {
			out["sync-defaults-options"] = normalizeSyncOptions(v, false)
		}
	}
	out["digest"] = d.Digest()
	return out, nil
}

// With returns a copy in which realm r replaces the realm of the same id, or
// is appended. If r is the default realm, no other realm stays default.
func (d *Domains) With(r *Realm) (*Domains, error) {
	if r == nil || !realmRe.MatchString(r.name) || typeOptions[r.typ] == nil {
		return nil, fmt.Errorf("domains: invalid realm")
	}
	out := make([]*Realm, 0, len(d.list())+1)
	replaced := false
	for _, old := range d.list() {
		switch {
		case old.name == r.name:
			out = append(out, r)
			replaced = true
		case r.IsDefault() && old.IsDefault():
			c := old.clone()
			delete(c.opts, "default")
			out = append(out, c)
		default:
			out = append(out, old)
		}
	}
	if !replaced {
		out = append(out, r)
	}
	return reparse(out)
}

// Without returns a copy without the realm. Removing pve or pam resets it to
// its defaults at the end of the file, as Proxmox's next read does.
func (d *Domains) Without(name string) *Domains {
	out := make([]*Realm, 0, len(d.list()))
	found := false
	for _, r := range d.list() {
		if r.name == name {
			found = true
			continue
		}
		out = append(out, r)
	}
	if !found {
		return d
	}
	nd, err := reparse(out)
	if err != nil { // cannot happen: the other realms were valid
		return d
	}
	return nd
}

// reparse returns the model Proxmox would read back after writing realms:
// it renders them and parses the result, so that the model always equals
// what its bytes say. A warning means a value would not survive the round
// trip; it is returned as an error.
func reparse(realms []*Realm) (*Domains, error) {
	d, warnings := Parse((&Domains{realms: realms}).Render())
	if len(warnings) > 0 {
		return nil, fmt.Errorf("%s", warnings[0])
	}
	return d, nil
}

var (
	headerRe   = regexp.MustCompile(`^(` + reNonSpace + `+):` + reSpace + `*(` + reNonSpace + `+)` + reSpace + `*$`)
	propLineRe = regexp.MustCompile(`^` + reSpace + `+(` + reNonSpace + `+)(` + reSpace + `+(.*` + reNonSpace + `))?` + reSpace + `*$`)
	commentRe  = regexp.MustCompile(`^` + reSpace + `*#`)
)

// Parse reads domains.cfg like Proxmox's SectionConfig parser and the realm
// plugin's post-processing. Nothing is refused: unusable lines, values and
// sections are dropped with Proxmox's warnings. Differences, all for
// determinism: of several "default" realms the first in file order keeps the
// flag, and a comment that would not read back the same after writing is
// normalised the way the next read would.
func Parse(data []byte) (*Domains, []string) {
	p := parser{lines: strings.Split(string(data), "\n")}
	p.run()
	return p.finish(), p.warnings
}

type parser struct {
	lines    []string
	pos      int
	lineno   int
	warnings []string
	realms   []*Realm
}

func (p *parser) warn(format string, args ...any) {
	p.warnings = append(p.warnings, strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
}

// next returns the next line that is not a '#' comment.
func (p *parser) next() (string, bool) {
	for p.pos < len(p.lines) {
		line := p.lines[p.pos]
		p.pos++
		p.lineno++
		if !commentRe.MatchString(line) {
			return line, true
		}
	}
	return "", false
}

func (p *parser) run() {
	for p.pos < len(p.lines) {
		line, ok := p.next()
		if !ok || !perlTrue(line) {
			continue
		}
		errprefix := fmt.Sprintf("file %s line %d", fileName, p.lineno)
		m := headerRe.FindStringSubmatch(line)
		if m == nil {
			p.warn("%s - ignore config line: %s", errprefix, line)
			continue
		}
		typ, name := asciiLower(m[1]), m[2]
		skip := false
		if !realmRe.MatchString(name) {
			skip = true
			p.warn("%s (skip section '%s'): value does not look like a valid realm", errprefix, name)
		} else if _, ok := typeOptions[typ]; !ok {
			skip = true
			p.warn("%s (skip section '%s'): unsupported type '%s'", errprefix, name, typ)
		}

		r := &Realm{name: name, typ: typ, opts: map[string]string{}}
		seenType := false
		for {
			line, ok = p.next()
			if !ok || !perlTrue(line) {
				break
			}
			if skip {
				continue
			}
			errprefix = fmt.Sprintf("file %s line %d", fileName, p.lineno)
			idx := propLineRe.FindStringSubmatchIndex(line)
			if idx == nil {
				p.warn("%s (section '%s') - ignore config line: %s", errprefix, name, line)
				continue
			}
			k := line[idx[2]:idx[3]]
			v, defined := "", idx[4] >= 0
			if defined {
				v = line[idx[6]:idx[7]]
			}
			if msg := p.property(r, &seenType, k, v, defined); msg != "" {
				p.warn("%s (section '%s') - unable to parse value of '%s': %s", errprefix, name, k, msg)
			}
		}
		if skip {
			continue
		}
		required, _ := sortedOptions(typ)
		missing := ""
		for _, k := range required {
			if _, ok := r.opts[k]; !ok {
				missing = k
				break
			}
		}
		if missing != "" {
			p.warn("%s (skip section '%s'): missing value for required option '%s'", errprefix, name, missing)
			continue
		}
		p.add(r)
	}
}

// property stores one "key value" line of a section, returning Proxmox's
// error message if it cannot.
func (p *parser) property(r *Realm, seenType *bool, k, v string, defined bool) string {
	if props[k] == nil {
		return "unknown property type"
	}
	if k == "type" {
		if *seenType {
			return "duplicate attribute"
		}
	} else if _, dup := r.opts[k]; dup {
		return "duplicate attribute"
	}
	val, msg := checkValue(r.typ, k, v, defined, byteLen)
	if msg != "" {
		return msg
	}
	if k == "type" {
		*seenType = true
		return ""
	}
	r.opts[k] = val
	return ""
}

// checkValue is SectionConfig's check_value for a realm of type typ.
func checkValue(typ, k, v string, defined bool, length lengthFunc) (string, string) {
	if k == "type" && defined && v == typ {
		return v, ""
	}
	if _, ok := typeOptions[typ][k]; !ok {
		return "", "unexpected property '" + k + "'"
	}
	p := props[k]
	if p.kind == kBool && !defined {
		v, defined = "1", true
	}
	if !defined {
		return "", "got undefined value"
	}
	if strings.ContainsAny(v, "\n\r") {
		return "", "property contains a line feed"
	}
	if msg := checkProp(p, v, length); msg != "" {
		return "", msg
	}
	return canonical(p, v), ""
}

// add stores a parsed section; a later section with the same id replaces an
// earlier one and takes its place in the order, as in Proxmox.
func (p *parser) add(r *Realm) {
	for i, old := range p.realms {
		if old.name == r.name {
			p.realms = append(p.realms[:i], p.realms[i+1:]...)
			break
		}
	}
	p.realms = append(p.realms, r)
}

// finish applies PVE::Auth::Plugin's post-processing.
func (p *parser) finish() *Domains {
	haveDefault := false
	for _, r := range p.realms {
		if perlTrue(r.opts["default"]) {
			if haveDefault {
				delete(r.opts, "default")
			}
			haveDefault = true
		}
		if c, ok := r.opts["comment"]; ok {
			if c = canonicalComment(c); c == "" {
				delete(r.opts, "comment")
			} else {
				r.opts["comment"] = c
			}
		}
	}
	p.force("pve", TypePVE, DefaultPVEComment)
	p.force("pam", TypePAM, DefaultPAMComment)
	return &Domains{realms: p.realms}
}

// force makes the built-in realm name exist with type typ, as Proxmox does:
// a section of that id keeps its place but gets the type (and only the
// options of that type); a missing one is appended.
func (p *parser) force(name, typ, comment string) {
	for _, r := range p.realms {
		if r.name != name {
			continue
		}
		if r.typ != typ {
			r.typ = typ
			for k := range r.opts {
				if !HasOption(typ, k) {
					delete(r.opts, k)
				}
			}
		}
		if !perlTrue(r.opts["comment"]) {
			r.opts["comment"] = comment
		}
		return
	}
	p.realms = append(p.realms, &Realm{name: name, typ: typ, opts: map[string]string{"comment": comment}})
}

// canonicalComment decodes a raw comment value and returns the text that
// reads back unchanged after it is written ("" if none would): the writer
// skips a false comment, and the parser trims the encoded text.
func canonicalComment(raw string) string {
	if !perlTrue(raw) {
		return ""
	}
	c := decodeText(raw)
	for {
		if !perlTrue(c) {
			return ""
		}
		enc := encodeText(c)
		trimmed := strings.TrimFunc(enc, isSpace)
		if trimmed == enc {
			return c
		}
		if !perlTrue(trimmed) {
			return ""
		}
		c = decodeText(trimmed)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
