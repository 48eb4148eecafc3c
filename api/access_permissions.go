package api

import (
	"github.com/pvecfs/pvecfs/access/perm"
)

// GET /access/permissions, and the list of every /access endpoint built
// over an AccessState.

// AccessEndpoints returns the /access endpoints except the index and
// authentication (ticket, password; see AccessAuthEndpoints): users,
// tokens, groups, roles, ACL, domains and permissions, all over one
// AccessState.
func AccessEndpoints(s *AccessState) []Endpoint {
	var eps []Endpoint
	eps = append(eps, s.userEndpoints()...)
	eps = append(eps, s.tokenEndpoints()...)
	eps = append(eps, s.groupEndpoints()...)
	eps = append(eps, s.roleEndpoints()...)
	eps = append(eps, s.aclEndpoints()...)
	eps = append(eps, s.domainEndpoints()...)
	eps = append(eps, s.permissionEndpoints()...)
	return eps
}

func (s *AccessState) permissionEndpoints() []Endpoint {
	return []Endpoint{
		{Method: "GET", Path: "/access/permissions", Check: s.check(declAll, nil),
			Params:      []Param{{Name: "userid", Optional: true, Pattern: accAuthidRE}, {Name: "path", Optional: true}},
			Description: "Effective permissions {path: {privilege: propagate}} of yourself or a token you own; of others with Sys.Audit on /access.",
			Handler: func(r *Request) (any, error) {
				_, eng, err := s.read(r)
				if err != nil {
					return nil, err
				}
				res, err := perm.PermissionsFor(eng, accAuthid(r), r.Params)
				if err != nil {
					return nil, accessErr(err)
				}
				return res, nil
			}},
	}
}
