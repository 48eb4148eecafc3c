package domains

import (
	"fmt"
	"sort"
	"strings"
)

// ParamError is a parameter verification failure: HTTP 400 with the message
// "Parameter verification failed." and one message per parameter, worded as
// Proxmox words them (some end in "\n", as Proxmox's do).
type ParamError struct {
	// Errors maps a parameter name to its message.
	Errors map[string]string
}

// Error returns Proxmox's message for a parameter error.
func (e *ParamError) Error() string {
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("Parameter verification failed.")
	for _, k := range keys {
		b.WriteString("\n" + k + ": " + strings.TrimRight(e.Errors[k], "\n"))
	}
	return b.String()
}

// API-only parameters of the create and update methods.
var (
	typeParam = &prop{kind: kString, enum: []string{"ad", "ldap", "openid", "pam", "pve"}}
	apiParams = map[string]*prop{
		"check-connection": {kind: kBool},
		"delete":           {kind: kString, format: "pve-configid-list", maxLength: 4096},
		"digest":           {kind: kString, maxLength: 64},
	}
)

// isFixed reports whether some realm type marks key as settable only on
// creation; such keys are not part of the update schema.
func isFixed(key string) bool {
	for _, opts := range typeOptions {
		if opts[key].fixed {
			return true
		}
	}
	return false
}

// ValidateCreateParams checks the parameters of POST /access/domains against
// Proxmox's create schema: "realm" and "type" are required, every realm
// option of any type, "password" and "check-connection" are allowed.
// Booleans must be "0" or "1" (map JSON true/false before calling).
func ValidateCreateParams(params map[string]string) error {
	return validateParams(params, false)
}

// ValidateUpdateParams checks the parameters of PUT /access/domains/{realm}
// against Proxmox's update schema: "realm" is required; every option except
// "type" and the creation-only ones (username-claim), plus "password",
// "check-connection", "delete" and "digest", are allowed.
func ValidateUpdateParams(params map[string]string) error {
	return validateParams(params, true)
}

func validateParams(params map[string]string, update bool) error {
	schema := func(k string) *prop {
		switch {
		case k == "type":
			if update {
				return nil
			}
			return typeParam
		case k == "delete" || k == "digest":
			if !update {
				return nil
			}
			return apiParams[k]
		case k == "check-connection":
			return apiParams[k]
		case update && isFixed(k):
			return nil
		}
		return props[k]
	}
	errs := map[string]string{}
	for _, k := range []string{"realm", "type"} {
		if k == "type" && update {
			continue
		}
		if _, ok := params[k]; !ok {
			errs[k] = "property is missing and it is not optional"
		}
	}
	for k, v := range params {
		p := schema(k)
		if p == nil {
			errs[k] = "property is not defined in schema and the schema does not allow additional properties"
			continue
		}
		if msg := checkProp(p, v, charLen); msg != "" {
			errs[k] = msg
		}
	}
	if len(errs) > 0 {
		return &ParamError{Errors: errs}
	}
	return nil
}

// optionParams returns the realm options among API parameters: everything
// but the realm id, type and the API-only parameters.
func optionParams(params map[string]string) map[string]string {
	opts := map[string]string{}
	for k, v := range params {
		switch k {
		case "realm", "type", "password", "check-connection", "delete", "digest":
			continue
		}
		opts[k] = v
	}
	return opts
}

// Create adds a realm as POST /access/domains does and returns the new
// configuration. params are the request parameters (realm, type, options;
// "password" and "check-connection" are accepted but left to the caller: the
// bind password goes to priv/realm/<realm>.pw, see HasOption). A
// *ParamError reports invalid parameters (HTTP 400); other errors carry
// Proxmox's full message, "add auth server failed: ..." (HTTP 500).
func (d *Domains) Create(params map[string]string) (*Domains, error) {
	if err := ValidateCreateParams(params); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("add auth server failed: "+format, args...)
	}
	name, typ := params["realm"], params["type"]
	if _, ok := d.Realm(name); ok {
		return nil, fail("domain '%s' already exists", name)
	}
	if name == "pam" || name == "pve" {
		return nil, fail("unable to use reserved name '%s'", name)
	}
	if typ == TypePAM || typ == TypePVE {
		return nil, fail("unable to create builtin type '%s'", typ)
	}
	if _, ok := params["check-connection"]; ok && typ != TypeLDAP && typ != TypeAD {
		return nil, fail("'check-connection' parameter can only be set for realms of type 'ldap' or 'ad'")
	}
	opts := optionParams(params)
	if v, ok := opts["sync-defaults-options"]; ok && (typ == TypeLDAP || typ == TypeAD) {
		opts["sync-defaults-options"] = normalizeSyncOptions(v, true)
	}
	r := &Realm{name: name, typ: typ, opts: map[string]string{}}
	for _, k := range sortedKeys(opts) {
		v, msg := checkValue(typ, k, opts[k], true, charLen)
		if msg != "" {
			return nil, fail("%s", msg)
		}
		r.opts[k] = v
	}
	required, _ := sortedOptions(typ)
	for _, k := range required {
		if _, ok := r.opts[k]; !ok {
			return nil, fail("missing value for required option '%s'", k)
		}
	}
	list := d.withoutDefaultIf(r.IsDefault())
	nd, err := reparse(append(list, r))
	if err != nil {
		return nil, fail("%v", err)
	}
	return nd, nil
}

// Update changes a realm as PUT /access/domains/{realm} does and returns the
// new configuration. params hold "realm", the options to set, and optionally
// "delete" (options to remove), "digest" (refuse if the file changed),
// "password" and "check-connection" (accepted, left to the caller). A
// *ParamError reports invalid parameters; other errors carry Proxmox's full
// message, "update auth server failed: ...". For a realm that does not exist
// the message is "domain 'X' does not exist", the check Proxmox intends (its
// code autovivifies the realm first and fails later with another text).
func (d *Domains) Update(params map[string]string) (*Domains, error) {
	if err := ValidateUpdateParams(params); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("update auth server failed: "+format, args...)
	}
	if digest := params["digest"]; perlTrue(digest) && digest != d.Digest() {
		return nil, fail("detected modified configuration - file changed by other user? Try again.")
	}
	name := params["realm"]
	old, ok := d.Realm(name)
	if !ok {
		return nil, fail("domain '%s' does not exist", name)
	}
	typ := old.typ
	if _, ok := params["check-connection"]; ok && typ != TypeLDAP && typ != TypeAD {
		return nil, fail("'check-connection' parameter can only be set for realms of type 'ldap' or 'ad'")
	}
	opts := optionParams(params)
	_, hasPassword := params["password"]
	deleteList := params["delete"]
	if !perlTrue(deleteList) && len(opts) == 0 && !hasPassword {
		return nil, fail("no options specified")
	}

	r := old.clone()
	deletedType := false
	for _, k := range splitList(deleteList) {
		if k == "type" {
			deletedType = true
		}
		delete(r.opts, k)
	}
	if v, ok := opts["sync-defaults-options"]; ok && (typ == TypeLDAP || typ == TypeAD) {
		opts["sync-defaults-options"] = normalizeSyncOptions(v, true)
	}
	for _, k := range sortedKeys(opts) {
		v, msg := checkValue(typ, k, opts[k], true, charLen)
		if msg != "" {
			return nil, fail("%s", msg)
		}
		r.opts[k] = v
	}
	if deletedType {
		// Proxmox deletes the key and its writer then fails.
		return nil, fail("unknown section type ''")
	}
	required, _ := sortedOptions(typ)
	for _, k := range required {
		if _, ok := r.opts[k]; !ok {
			return nil, fail("section '%s' - missing value for required option '%s'", name, k)
		}
	}
	list := d.withoutDefaultIf(perlTrue(opts["default"]))
	for i, x := range list {
		if x.name == name {
			list[i] = r
		}
	}
	nd, err := reparse(list)
	if err != nil {
		return nil, fail("%v", err)
	}
	return nd, nil
}

// Delete removes a realm as DELETE /access/domains/{realm} does. Users of the
// realm are not touched; removing an LDAP/AD realm's bind password file is
// left to the caller. The error carries Proxmox's full message.
func (d *Domains) Delete(name string) (*Domains, error) {
	if _, ok := d.Realm(name); !ok {
		return nil, fmt.Errorf("delete auth server failed: authentication domain '%s' does not exist", name)
	}
	return d.Without(name), nil
}

// withoutDefaultIf returns a copy of the realm list; if clear is set, no
// realm in it carries the "default" option any more.
func (d *Domains) withoutDefaultIf(clear bool) []*Realm {
	list := make([]*Realm, 0, len(d.list())+1)
	for _, r := range d.list() {
		if _, has := r.opts["default"]; clear && has {
			r = r.clone()
			delete(r.opts, "default")
		}
		list = append(list, r)
	}
	return list
}
