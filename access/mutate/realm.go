package mutate

import (
	"errors"
	"maps"
	"net/http"
	"strings"

	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/cfs"
)

// RealmCreate is POST /access/domains: the request parameters ("realm",
// "type" and the realm's options) as strings, booleans as "0"/"1".
//
// "check-connection" is accepted and ignored here: a connection test is I/O
// that the REST layer must do before the log. "password" (an LDAP/AD bind
// password) is refused: it must stay usable, so it cannot be hashed, and a
// clear secret must not enter the log.
type RealmCreate struct {
	// Params are the API parameters.
	Params map[string]string `json:"params"`
}

// RealmUpdate is PUT /access/domains/{realm}: "realm", the options to set,
// and optionally "delete" and "digest" (see RealmCreate for
// "check-connection" and "password").
type RealmUpdate struct {
	// Params are the API parameters.
	Params map[string]string `json:"params"`
}

// RealmDelete is DELETE /access/domains/{realm}.
type RealmDelete struct {
	// Realm is the realm to delete.
	Realm string `json:"realm"`
}

func refusePassword(params map[string]string) error {
	if _, ok := params["password"]; ok {
		return paramErr("password", "a bind password cannot be stored through the replicated log")
	}
	return nil
}

// realmErr converts an error of the domains package.
func realmErr(err error) error {
	var pe *domains.ParamError
	if errors.As(err, &pe) {
		return &ParamError{Errors: maps.Clone(pe.Errors)}
	}
	return die("", "%s", err.Error())
}

// CreateRealm adds a realm (domains.Domains.Create); errors carry "add auth
// server failed: ..." or are parameter errors.
func CreateRealm(d *domains.Domains, r RealmCreate) (*domains.Domains, error) {
	if err := domains.ValidateCreateParams(r.Params); err != nil {
		return d, realmErr(err)
	}
	if err := refusePassword(r.Params); err != nil {
		return d, err
	}
	if d == nil {
		d = domains.New()
	}
	nd, err := d.Create(r.Params)
	if err != nil {
		return d, realmErr(err)
	}
	return nd, nil
}

// UpdateRealm changes a realm (domains.Domains.Update). A "digest" that does
// not match the current file gives "update auth server failed: detected
// modified configuration - file changed by other user? Try again." with
// Code cfs.CodeDigest.
func UpdateRealm(d *domains.Domains, r RealmUpdate) (*domains.Domains, error) {
	if err := domains.ValidateUpdateParams(r.Params); err != nil {
		return d, realmErr(err)
	}
	if err := refusePassword(r.Params); err != nil {
		return d, err
	}
	if d == nil {
		d = domains.New()
	}
	if dg := r.Params["digest"]; truthy(dg) && dg != d.Digest() {
		return d, &cfs.Error{Status: http.StatusInternalServerError, Code: cfs.CodeDigest,
			Message: "update auth server failed: " + cfs.DigestMismatch}
	}
	nd, err := d.Update(r.Params)
	if err != nil {
		return d, realmErr(err)
	}
	return nd, nil
}

// DeleteRealm removes a realm (users of the realm stay, as in Proxmox;
// deleting pve or pam resets it). The error carries "delete auth server
// failed: ...".
func DeleteRealm(d *domains.Domains, r RealmDelete) (*domains.Domains, error) {
	if d == nil {
		d = domains.New()
	}
	nd, err := d.Delete(r.Realm)
	if err != nil {
		return d, realmErr(err)
	}
	return nd, nil
}

// realmPasswordFiles are the bind password files a realm's on_delete_hook
// removes.
func realmPasswordFiles(realm string) []string {
	if strings.ContainsAny(realm, "/\x00") || realm == "" {
		return nil
	}
	return []string{"priv/realm/" + realm + ".pw", "priv/ldap/" + realm + ".pw"}
}
