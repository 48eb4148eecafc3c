package domains

import (
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Realm types.
const (
	TypePAM    = "pam"
	TypePVE    = "pve"
	TypeLDAP   = "ldap"
	TypeAD     = "ad"
	TypeOpenID = "openid"
)

// kind is a property's JSON schema type.
type kind int

const (
	kString kind = iota
	kBool
	kInt
)

// prop is the JSON schema of one property, as far as Proxmox's check_prop
// looks at it.
type prop struct {
	kind      kind
	format    string
	pattern   *regexp.Regexp
	maxLength int
	min, max  *float64
	enum      []string
}

// Perl's \s, \S and \w on byte strings. RE2's \s lacks \v, so the classes are
// spelled out.
const (
	reSpace    = `[\t\n\v\f\r ]`
	reNonSpace = `[^\t\n\v\f\r ]`
	reWord     = `[A-Za-z0-9_]`
)

// anchored compiles a JSON schema pattern the way Proxmox applies it:
// m/^$pattern$/, without grouping (so a top-level '|' binds loosely, as in
// Perl).
func anchored(p string) *regexp.Regexp {
	return regexp.MustCompile("^" + p + "$")
}

func num(f float64) *float64 { return &f }

// props is the unified property list of all realm plugins (PVE::Auth::*).
var props = map[string]*prop{
	"type":  {kind: kString},
	"realm": {kind: kString, format: "pve-realm", maxLength: 32},

	"comment":    {kind: kString, maxLength: 4096},
	"default":    {kind: kBool},
	"tfa":        {kind: kString, format: "pve-tfa-config", maxLength: 128},
	"server1":    {kind: kString, format: "address", maxLength: 256},
	"server2":    {kind: kString, format: "address", maxLength: 256},
	"secure":     {kind: kBool},
	"sslversion": {kind: kString, enum: []string{"tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3"}},
	"port":       {kind: kInt, min: num(1), max: num(65535)},
	"domain":     {kind: kString, pattern: anchored(reNonSpace + `+`), maxLength: 256},

	"base_dn":               {kind: kString, maxLength: 256},
	"user_attr":             {kind: kString, pattern: anchored(reNonSpace + `{2,}`), maxLength: 256},
	"bind_dn":               {kind: kString, maxLength: 256},
	"password":              {kind: kString},
	"verify":                {kind: kBool},
	"capath":                {kind: kString},
	"cert":                  {kind: kString},
	"certkey":               {kind: kString},
	"filter":                {kind: kString, maxLength: 2048},
	"sync_attributes":       {kind: kString, pattern: anchored(reWord + `+=[^,]+(,` + reSpace + `*` + reWord + `+=[^,]+)*`)},
	"user_classes":          {kind: kString, format: "ldap-simple-attr-list"},
	"group_dn":              {kind: kString, maxLength: 256},
	"group_name_attr":       {kind: kString, format: "ldap-simple-attr", maxLength: 256},
	"group_filter":          {kind: kString, maxLength: 2048},
	"group_classes":         {kind: kString, format: "ldap-simple-attr-list"},
	"sync-defaults-options": {kind: kString, format: "realm-sync-options"},
	"mode":                  {kind: kString, enum: []string{"ldap", "ldaps", "ldap+starttls"}},
	"case-sensitive":        {kind: kBool},

	"issuer-url":        {kind: kString, maxLength: 256},
	"client-id":         {kind: kString, maxLength: 256},
	"client-key":        {kind: kString, maxLength: 256},
	"autocreate":        {kind: kBool},
	"username-claim":    {kind: kString},
	"groups-claim":      {kind: kString, pattern: anchored(`[A-Za-z0-9.\-_]+`), maxLength: 256},
	"groups-autocreate": {kind: kBool},
	"groups-overwrite":  {kind: kBool},
	"prompt":            {kind: kString, pattern: anchored(`(?:none|login|consent|select_account|` + reNonSpace + `+)`)},
	"scopes":            {kind: kString},
	"acr-values":        {kind: kString, pattern: anchored(`^[^\x00-\x1F\x7F <>#"]*$`)},
	"query-userinfo":    {kind: kBool},
}

// option is how a realm type uses a property.
type option struct {
	required bool
	fixed    bool // may only be set on creation
}

// ldapOptional lists the optional options LDAP and AD realms share.
var ldapOptional = []string{
	"server2", "bind_dn", "password", "port", "secure", "sslversion", "default", "comment", "tfa",
	"verify", "capath", "cert", "certkey", "filter", "sync_attributes", "user_classes", "group_dn",
	"group_name_attr", "group_filter", "group_classes", "sync-defaults-options", "mode", "case-sensitive",
}

// typeOptions maps each realm type to its options (the plugins' options()).
var typeOptions = map[string]map[string]option{
	TypePAM: optionSet(nil, []string{"default", "comment", "tfa"}),
	TypePVE: optionSet(nil, []string{"default", "comment", "tfa"}),
	TypeLDAP: optionSet([]string{"server1", "base_dn", "user_attr"},
		ldapOptional),
	TypeAD: optionSet([]string{"server1", "domain"},
		append([]string{"base_dn", "user_attr"}, ldapOptional...)),
	TypeOpenID: func() map[string]option {
		m := optionSet([]string{"issuer-url", "client-id"}, []string{
			"client-key", "autocreate", "groups-claim", "groups-autocreate", "groups-overwrite",
			"prompt", "scopes", "acr-values", "default", "comment", "query-userinfo",
		})
		m["username-claim"] = option{fixed: true}
		return m
	}(),
}

func optionSet(required, optional []string) map[string]option {
	m := make(map[string]option, len(required)+len(optional))
	for _, k := range required {
		m[k] = option{required: true}
	}
	for _, k := range optional {
		m[k] = option{}
	}
	return m
}

// Types returns the realm types, sorted.
func Types() []string {
	out := make([]string, 0, len(typeOptions))
	for t := range typeOptions {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// HasOption reports whether realms of type typ take the option key (e.g.
// HasOption("ldap", "password") tells whether a bind password applies).
func HasOption(typ, key string) bool {
	_, ok := typeOptions[typ][key]
	return ok
}

// Options returns the options of a realm type, sorted; required reports which
// of them must be set.
func Options(typ string) (keys []string, required map[string]bool) {
	opts := typeOptions[typ]
	required = map[string]bool{}
	for k, o := range opts {
		keys = append(keys, k)
		if o.required {
			required[k] = true
		}
	}
	sort.Strings(keys)
	return keys, required
}

// sortedOptions returns a type's required and optional option keys, each
// sorted: the order in which SectionConfig writes them.
func sortedOptions(typ string) (required, optional []string) {
	for k, o := range typeOptions[typ] {
		if o.required {
			required = append(required, k)
		} else {
			optional = append(optional, k)
		}
	}
	sort.Strings(required)
	sort.Strings(optional)
	return required, optional
}

var (
	realmRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.\-_]+$`)
	configIDRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]+$`)
	ldapAttrRe = regexp.MustCompile(`^[a-zA-Z0-9]+$`)
	dnsNameRe  = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?$`)
	integerRe  = regexp.MustCompile(`^[+-]?[0-9]+$`)
	numberRe   = regexp.MustCompile(`^[+-]?([0-9]+\.[0-9]+|[0-9]+\.|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?$`)
)

// ValidRealm reports whether name is a valid realm id (Proxmox's realm_regex).
func ValidRealm(name string) bool {
	return realmRe.MatchString(name)
}

// lengthFunc measures a value: bytes for file content (Perl sees raw bytes),
// characters for API parameters.
type lengthFunc func(string) int

func byteLen(s string) int { return len(s) }

// checkProp validates value like PVE::JSONSchema::check_prop and returns
// Proxmox's message for the first failure, or "".
func checkProp(p *prop, value string, length lengthFunc) string {
	switch p.kind {
	case kBool:
		if value != "0" && value != "1" {
			return "type check ('boolean') failed - got '" + value + "'"
		}
	case kInt:
		if !integerRe.MatchString(value) {
			return "type check ('integer') failed - got '" + value + "'"
		}
	}
	if p.format != "" {
		if msg := checkFormat(p.format, value); msg != "" {
			return "invalid format - " + msg
		}
	}
	if p.pattern != nil && !p.pattern.MatchString(value) {
		return "value does not match the regex pattern"
	}
	if p.maxLength > 0 && length(value) > p.maxLength {
		return "value may only be " + strconv.Itoa(p.maxLength) + " characters long"
	}
	if numberRe.MatchString(value) && (p.min != nil || p.max != nil) {
		// On overflow ParseFloat returns ±Inf, which compares as Perl's
		// numification does.
		f, _ := strconv.ParseFloat(value, 64)
		if p.max != nil && f > *p.max {
			return "value must have a maximum value of " + fmtNum(*p.max)
		}
		if p.min != nil && f < *p.min {
			return "value must have a minimum value of " + fmtNum(*p.min)
		}
	}
	if p.enum != nil {
		found := false
		for _, e := range p.enum {
			if e == value {
				found = true
				break
			}
		}
		if !found {
			return "value '" + value + "' does not have a value in the enumeration '" + strings.Join(p.enum, ", ") + "'"
		}
	}
	return ""
}

func fmtNum(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// canonical returns a valid value as Proxmox stores it: booleans and integers
// become numbers ("+0389" is 389), strings stay as they are.
func canonical(p *prop, value string) string {
	if p.kind == kInt {
		if n, err := strconv.ParseInt(strings.TrimPrefix(value, "+"), 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
	}
	return value
}

// checkFormat runs a named format's verifier; the message ends in "\n" like
// the Perl die it stands for.
func checkFormat(format, value string) string {
	switch format {
	case "pve-realm":
		if !realmRe.MatchString(value) {
			return "value does not look like a valid realm\n"
		}
	case "address":
		if !validAddress(value) {
			return "value does not look like a valid address: " + value + "\n"
		}
	case "ldap-simple-attr":
		if !ldapAttrRe.MatchString(value) {
			return "value '" + value + "' does not look like a simple ldap attribute name\n"
		}
	case "ldap-simple-attr-list":
		for _, v := range splitList(value) {
			if !ldapAttrRe.MatchString(v) {
				return "value '" + v + "' does not look like a simple ldap attribute name\n"
			}
		}
	case "pve-configid-list":
		for _, v := range splitList(value) {
			if !configIDRe.MatchString(v) {
				return "invalid configuration ID '" + v + "'\n"
			}
		}
	case "pve-tfa-config":
		if _, msg := parsePropertyString(tfaFormat, value); msg != "" {
			return msg
		}
	case "realm-sync-options":
		if _, msg := parsePropertyString(syncFormat, value); msg != "" {
			return msg
		}
	}
	return ""
}

// validAddress is Proxmox's "address" format: an IP address or a DNS name.
// Every dotted-quad is also a DNS name, so only IPv6 needs its own check.
func validAddress(s string) bool {
	if dnsNameRe.MatchString(s) {
		return true
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}

// propertyFormat is the schema of a comma-separated property string.
type propertyFormat map[string]*subProp

type subProp struct {
	prop
	optional bool
}

var (
	tfaFormat = propertyFormat{
		"type":   {prop: prop{kind: kString, enum: []string{"yubico", "oath"}}},
		"id":     {prop: prop{kind: kString}, optional: true},
		"key":    {prop: prop{kind: kString}, optional: true},
		"url":    {prop: prop{kind: kString}, optional: true},
		"digits": {prop: prop{kind: kInt, min: num(6), max: num(8)}, optional: true},
		"step":   {prop: prop{kind: kInt, min: num(10)}, optional: true},
	}
	syncFormat = propertyFormat{
		"scope":           {prop: prop{kind: kString, enum: []string{"users", "groups", "both"}}, optional: true},
		"remove-vanished": {prop: prop{kind: kString, pattern: anchored(`(?:(?:acl|properties|entry);)*(?:acl|properties|entry)|none`)}, optional: true},
		"full":            {prop: prop{kind: kBool}, optional: true},
		"enable-new":      {prop: prop{kind: kBool}, optional: true},
		"purge":           {prop: prop{kind: kBool}, optional: true},
	}
)

// parsePropertyString parses "k=v,k=v" like PVE::JSONSchema's
// parse_property_string and checks it against format. On failure it returns
// Proxmox's message (ending in "\n").
func parsePropertyString(format propertyFormat, data string) (map[string]string, string) {
	res := map[string]string{}
	for _, part := range perlSplit(data, ",") {
		if strings.TrimFunc(part, isSpace) == "" {
			continue
		}
		eq := strings.IndexByte(part, '=')
		switch {
		case eq > 0 && eq < len(part)-1:
			k, v := part[:eq], part[eq+1:]
			if _, dup := res[k]; dup {
				return nil, "duplicate key in comma-separated list property: " + k + "\n"
			}
			sp := format[k]
			if sp == nil {
				return nil, "invalid key in comma-separated list property: " + k + "\n"
			}
			if sp.kind == kBool {
				v = parseBoolean(v)
			}
			res[k] = v
		case eq < 0:
			return nil, "value without key, but schema does not define a default key\n"
		default:
			return nil, "missing key in comma-separated list property\n"
		}
	}
	errs := map[string]string{}
	for k, sp := range format {
		v, ok := res[k]
		if !ok {
			if !sp.optional {
				errs[k] = "property is missing and it is not optional"
			}
			continue
		}
		if msg := checkProp(&sp.prop, v, byteLen); msg != "" {
			errs[k] = msg
		}
	}
	if len(errs) == 0 {
		return res, ""
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("format error\n")
	for _, k := range keys {
		b.WriteString(k + ": " + errs[k] + "\n")
	}
	return nil, b.String()
}

// printPropertyString writes a parsed property string like Proxmox's
// print_property_string: required keys first, then the rest, each sorted.
func printPropertyString(format propertyFormat, data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, pass := range []bool{true, false} {
		for _, k := range keys {
			sp := format[k]
			required := sp != nil && !sp.optional
			if required == pass {
				parts = append(parts, k+"="+data[k])
			}
		}
	}
	return strings.Join(parts, ",")
}

// parseBoolean maps Proxmox's boolean spellings to 1/0 and leaves anything
// else unchanged.
func parseBoolean(v string) string {
	switch strings.ToLower(v) {
	case "1", "on", "yes", "true":
		return "1"
	case "0", "off", "no", "false":
		return "0"
	}
	return v
}

// normalizeSyncOptions rewrites a sync-defaults-options value as Domains.pm
// does: the deprecated full/purge flags imply remove-vanished when it is not
// set, and are dropped when deleteDeprecated is set. The value must be valid.
func normalizeSyncOptions(value string, deleteDeprecated bool) string {
	opts, msg := parsePropertyString(syncFormat, value)
	if msg != "" {
		return value
	}
	if _, ok := opts["remove-vanished"]; !ok && (perlTrue(opts["full"]) || perlTrue(opts["purge"])) {
		var rv []string
		if perlTrue(opts["full"]) {
			rv = append(rv, "entry", "properties")
		}
		if perlTrue(opts["purge"]) {
			rv = append(rv, "acl")
		}
		opts["remove-vanished"] = strings.Join(rv, ";")
	}
	if deleteDeprecated {
		delete(opts, "full")
		delete(opts, "purge")
	}
	return printPropertyString(syncFormat, opts)
}

// charLen counts characters, for API parameter lengths.
func charLen(s string) int { return utf8.RuneCountInString(s) }
