package mutate

import (
	"encoding/json"
	"net/http"

	"github.com/pvecfs/pvecfs/cfs"
)

// Command op names registered by Register.
const (
	// OpUserCreate creates a user (body UserCreate).
	OpUserCreate = "access.user.create"
	// OpUserUpdate changes a user (body UserUpdate).
	OpUserUpdate = "access.user.update"
	// OpUserDelete deletes a user (body UserDelete).
	OpUserDelete = "access.user.delete"
	// OpGroupCreate creates a group (body GroupCreate).
	OpGroupCreate = "access.group.create"
	// OpGroupUpdate changes a group (body GroupUpdate).
	OpGroupUpdate = "access.group.update"
	// OpGroupDelete deletes a group (body GroupDelete).
	OpGroupDelete = "access.group.delete"
	// OpRoleCreate creates a role (body RoleCreate).
	OpRoleCreate = "access.role.create"
	// OpRoleUpdate changes a role (body RoleUpdate).
	OpRoleUpdate = "access.role.update"
	// OpRoleDelete deletes a role (body RoleDelete).
	OpRoleDelete = "access.role.delete"
	// OpACLUpdate adds or removes ACL entries (body ACLUpdate).
	OpACLUpdate = "access.acl.update"
	// OpTokenCreate creates an API token (body TokenCreate, result TokenCreateResult).
	OpTokenCreate = "access.token.create"
	// OpTokenUpdate changes an API token (body TokenUpdate, result TokenUpdateResult).
	OpTokenUpdate = "access.token.update"
	// OpTokenDelete deletes an API token (body TokenDelete).
	OpTokenDelete = "access.token.delete"
	// OpRealmCreate creates a realm (body RealmCreate).
	OpRealmCreate = "access.realm.create"
	// OpRealmUpdate changes a realm (body RealmUpdate).
	OpRealmUpdate = "access.realm.update"
	// OpRealmDelete deletes a realm (body RealmDelete).
	OpRealmDelete = "access.realm.delete"
	// OpPassword sets a password hash (body PasswordChange).
	OpPassword = "access.password"
)

// Register adds the access-control command handlers to h. Each handler
// decodes its request, reads the current models from the transaction,
// applies the pure function and stores the models that changed; an error
// leaves the transaction (and so the tree) unchanged.
func Register(h *cfs.Handlers) error {
	for _, op := range []struct {
		name string
		fn   cfs.Handler
	}{
		{OpUserCreate, handle(func(tx *cfs.Txn, r *UserCreate) (any, error) {
			which := fUsers | fDomains
			if r.PasswordHash != "" {
				which |= fShadow | fPAMShadow
			}
			return apply(tx, which, func(m Models) (Models, any, error) {
				n, err := CreateUser(m, *r)
				return n, nil, err
			})
		})},
		{OpUserUpdate, handle(func(tx *cfs.Txn, r *UserUpdate) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = UpdateUser(m.Users, *r)
				return m, err
			})
		})},
		{OpUserDelete, handle(func(tx *cfs.Txn, r *UserDelete) (any, error) {
			return apply(tx, fUsers|fTokens|fShadow|fDomains, func(m Models) (Models, any, error) {
				n, err := DeleteUser(m, *r)
				return n, nil, err
			})
		})},
		{OpGroupCreate, handle(func(tx *cfs.Txn, r *GroupCreate) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = CreateGroup(m.Users, *r)
				return m, err
			})
		})},
		{OpGroupUpdate, handle(func(tx *cfs.Txn, r *GroupUpdate) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = UpdateGroup(m.Users, *r)
				return m, err
			})
		})},
		{OpGroupDelete, handle(func(tx *cfs.Txn, r *GroupDelete) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = DeleteGroup(m.Users, *r)
				return m, err
			})
		})},
		{OpRoleCreate, handle(func(tx *cfs.Txn, r *RoleCreate) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = CreateRole(m.Users, *r)
				return m, err
			})
		})},
		{OpRoleUpdate, handle(func(tx *cfs.Txn, r *RoleUpdate) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = UpdateRole(m.Users, *r)
				return m, err
			})
		})},
		{OpRoleDelete, handle(func(tx *cfs.Txn, r *RoleDelete) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = DeleteRole(m.Users, *r)
				return m, err
			})
		})},
		{OpACLUpdate, handle(func(tx *cfs.Txn, r *ACLUpdate) (any, error) {
			return applyUsers(tx, func(m Models) (Models, error) {
				var err error
				m.Users, err = UpdateACL(m.Users, *r)
				return m, err
			})
		})},
		{OpTokenCreate, handle(func(tx *cfs.Txn, r *TokenCreate) (any, error) {
			return apply(tx, fUsers|fTokens, func(m Models) (Models, any, error) {
				n, res, err := CreateToken(m, *r)
				return n, res, err
			})
		})},
		{OpTokenUpdate, handle(func(tx *cfs.Txn, r *TokenUpdate) (any, error) {
			return apply(tx, fUsers|fTokens, func(m Models) (Models, any, error) {
				n, res, err := UpdateToken(m, *r)
				return n, res, err
			})
		})},
		{OpTokenDelete, handle(func(tx *cfs.Txn, r *TokenDelete) (any, error) {
			return apply(tx, fUsers|fTokens, func(m Models) (Models, any, error) {
				n, err := DeleteToken(m, *r)
				return n, nil, err
			})
		})},
		{OpRealmCreate, handle(func(tx *cfs.Txn, r *RealmCreate) (any, error) {
			return apply(tx, fDomains, func(m Models) (Models, any, error) {
				var err error
				m.Domains, err = CreateRealm(m.Domains, *r)
				return m, nil, err
			})
		})},
		{OpRealmUpdate, handle(func(tx *cfs.Txn, r *RealmUpdate) (any, error) {
			return apply(tx, fDomains, func(m Models) (Models, any, error) {
				var err error
				m.Domains, err = UpdateRealm(m.Domains, *r)
				return m, nil, err
			})
		})},
		{OpRealmDelete, handle(realmDelete)},
		{OpPassword, handle(func(tx *cfs.Txn, r *PasswordChange) (any, error) {
			return apply(tx, fUsers|fShadow|fPAMShadow|fDomains, func(m Models) (Models, any, error) {
				n, err := ChangePassword(m, *r, tx.Stamp().Time)
				return n, nil, err
			})
		})},
	} {
		if err := h.Register(op.name, op.fn); err != nil {
			return err
		}
	}
	return nil
}

// handle decodes a command body into R and converts the handler's error
// into a *cfs.Error (parameter errors keep status 400, Code CodeParam).
func handle[R any](fn func(tx *cfs.Txn, r *R) (any, error)) cfs.Handler {
	return func(tx *cfs.Txn, body json.RawMessage) (any, error) {
		var r R
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, cfs.Errorf(http.StatusBadRequest, cfs.CodeInvalid, "bad request body: %v", err)
		}
		v, err := fn(tx, &r)
		if err != nil {
			return nil, toCfsError(err)
		}
		return v, nil
	}
}

// apply loads the models, runs a mutation and stores what changed.
func apply(tx *cfs.Txn, which files, fn func(Models) (Models, any, error)) (any, error) {
	l, err := load(tx, which)
	if err != nil {
		return nil, err
	}
	n, res, err := fn(l.m)
	if err != nil {
		return nil, err
	}
	if err := l.store(n); err != nil {
		return nil, err
	}
	return res, nil
}

func applyUsers(tx *cfs.Txn, fn func(Models) (Models, error)) (any, error) {
	return apply(tx, fUsers, func(m Models) (Models, any, error) {
		n, err := fn(m)
		return n, nil, err
	})
}

// realmDelete also removes the realm's bind password files, as the realm
// plugins' on_delete_hook does.
func realmDelete(tx *cfs.Txn, r *RealmDelete) (any, error) {
	return apply(tx, fDomains, func(m Models) (Models, any, error) {
		var err error
		if m.Domains, err = DeleteRealm(m.Domains, *r); err != nil {
			return m, nil, err
		}
		for _, p := range realmPasswordFiles(r.Realm) {
			if e, ok := tx.Get(p); ok && !e.IsDir() {
				if err := tx.Delete(p); err != nil {
					return m, nil, err
				}
			}
		}
		return m, nil, nil
	})
}
