package api

import (
	"github.com/pvecfs/pvecfs/access/domains"
	"github.com/pvecfs/pvecfs/access/mutate"
	"github.com/pvecfs/pvecfs/access/perm"
)

// /access/domains (API2/Domains.pm): authentication realms in domains.cfg.

// realmOptionTypes lists the realm options of the create/update schema with
// their JSON types (strings unless named here). Values are checked in full
// (formats, enums, patterns, lengths) by domains.Validate*Params.
var realmOptionTypes = []struct {
	name, typ string
}{
	{"acr-values", TString}, {"autocreate", TBoolean}, {"base_dn", TString}, {"bind_dn", TString},
	{"capath", TString}, {"case-sensitive", TBoolean}, {"cert", TString}, {"certkey", TString},
	{"check-connection", TBoolean}, {"client-id", TString}, {"client-key", TString}, {"comment", TString},
	{"default", TBoolean}, {"domain", TString}, {"filter", TString}, {"group_classes", TString},
	{"group_dn", TString}, {"group_filter", TString}, {"group_name_attr", TString},
	{"groups-autocreate", TBoolean}, {"groups-claim", TString}, {"groups-overwrite", TBoolean},
	{"issuer-url", TString}, {"mode", TString}, {"password", TString}, {"port", TInteger}, {"prompt", TString},
	{"query-userinfo", TBoolean}, {"scopes", TString}, {"secure", TBoolean}, {"server1", TString},
	{"server2", TString}, {"sslversion", TString}, {"sync-defaults-options", TString},
	{"sync_attributes", TString}, {"tfa", TString}, {"user_attr", TString}, {"user_classes", TString},
	{"verify", TBoolean},
}

// realmParams declares the create (update=false) or update schema's
// parameters; "realm" comes first.
func realmParams(update bool) []Param {
	ps := []Param{{Name: "realm"}}
	if update {
		ps = append(ps, Param{Name: "delete", Optional: true, List: true}, Param{Name: "digest", Optional: true})
	} else {
		ps = append(ps, Param{Name: "type"}, Param{Name: "username-claim", Optional: true})
	}
	for _, o := range realmOptionTypes {
		ps = append(ps, Param{Name: o.name, Type: o.typ, Optional: true})
	}
	return ps
}

func (s *AccessState) domainEndpoints() []Endpoint {
	allocate := &perm.Decl{Check: perm.Perm("/access/realm", []string{"Realm.Allocate"})}
	read := &perm.Decl{Check: perm.Perm("/access/realm", []string{"Realm.Allocate", "Sys.Audit"}, perm.Any())}
	preCreate := func(r *Request) error { return accessErr(domains.ValidateCreateParams(r.Params)) }
	preUpdate := func(r *Request) error { return accessErr(domains.ValidateUpdateParams(r.Params)) }
	locks := []string{LockDomainsCfg}
	return []Endpoint{
		{Method: "GET", Path: "/access/domains", World: true,
			Description: "List realms (no authentication: the login form needs it).",
			Handler: func(r *Request) (any, error) {
				d, err := s.readDomains(r)
				if err != nil {
					return nil, err
				}
				return d.Index(), nil
			}},
		{Method: "POST", Path: "/access/domains", Check: s.check(allocate, preCreate), Params: realmParams(false),
			Description: "Add a realm (Realm.Allocate on /access/realm); a bind password is refused (it would enter the log in clear); check-connection is accepted and not performed.",
			Handler: func(r *Request) (any, error) {
				if err := preCreate(r); err != nil {
					return nil, err
				}
				_, err := s.apply(r, accMutation{op: mutate.OpRealmCreate, body: mutate.RealmCreate{Params: r.Params},
					locks: locks, prefix: "add auth server failed"})
				return nil, err
			}},
		{Method: "GET", Path: "/access/domains/{realm}", Check: s.check(read, nil), Params: []Param{pRealm},
			Description: "Read a realm's options and the domains.cfg digest (Realm.Allocate or Sys.Audit on /access/realm).",
			Handler: func(r *Request) (any, error) {
				d, err := s.readDomains(r)
				if err != nil {
					return nil, err
				}
				v, err := d.Read(r.Params.Get("realm"))
				if err != nil {
					return nil, accDie("%s", err.Error())
				}
				return v, nil
			}},
		{Method: "PUT", Path: "/access/domains/{realm}", Check: s.check(allocate, preUpdate), Params: realmParams(true),
			Description: "Update a realm; digest refuses a changed domains.cfg (Realm.Allocate on /access/realm).",
			Handler: func(r *Request) (any, error) {
				if err := preUpdate(r); err != nil {
					return nil, err
				}
				_, err := s.apply(r, accMutation{op: mutate.OpRealmUpdate, body: mutate.RealmUpdate{Params: r.Params},
					locks: locks, prefix: "update auth server failed"})
				return nil, err
			}},
		{Method: "DELETE", Path: "/access/domains/{realm}", Check: s.check(allocate, nil), Params: []Param{pRealm},
			Description: "Delete a realm; its users stay (Realm.Allocate on /access/realm).",
			Handler: func(r *Request) (any, error) {
				_, err := s.apply(r, accMutation{op: mutate.OpRealmDelete, body: mutate.RealmDelete{Realm: r.Params.Get("realm")},
					locks: locks, prefix: "delete auth server failed"})
				return nil, err
			}},
	}
}

// readDomains loads domains.cfg after the optional read barrier.
func (s *AccessState) readDomains(r *Request) (*domains.Domains, error) {
	if err := s.barrier(r); err != nil {
		return nil, err
	}
	return s.Domains()
}
