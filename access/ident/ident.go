// Package ident validates Proxmox VE access-control identifiers (user IDs,
// realms, API token IDs, group, role and pool IDs, VMIDs, storage IDs) and ACL
// paths, with the exact rules and error texts of pve-access-control
// (reference access-control.md §3). The checks operate on bytes, as Perl does
// on the undecoded user.cfg: lengths are byte counts and only ASCII letters,
// digits and whitespace count as such.
package ident

import (
	"errors"
	"fmt"
	"strings"
)

// Bounds of the length of a user ID in bytes (verify_username).
const (
	// UsernameMinLen is the shortest valid user ID.
	UsernameMinLen = 3
	// UsernameMaxLen is the longest valid user ID.
	UsernameMaxLen = 64
)

// RealmMaxLength is the maxLength of the API option `realm`.
const RealmMaxLength = 32

// IsSpace reports whether b is whitespace for Perl's \s on byte strings
// (space, \t, \n, \v, \f, \r).
func IsSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

func isAlpha(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlnum(b byte) bool { return isAlpha(b) || isDigit(b) }

// isWordish reports membership of [A-Za-z0-9.\-_].
func isWordish(b byte) bool { return isAlnum(b) || b == '.' || b == '-' || b == '_' }

func allWordish(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordish(s[i]) {
			return false
		}
	}
	return true
}

// validRealm matches ^[A-Za-z][A-Za-z0-9.\-_]+$ (realm_regex, also the token
// sub-ID regex).
func validRealm(s string) bool {
	return len(s) >= 2 && isAlpha(s[0]) && allWordish(s[1:])
}

// validUserPart matches ^[^\s:/]+$ (user_regex).
func validUserPart(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; IsSpace(c) || c == ':' || c == '/' {
			return false
		}
	}
	return true
}

// splitUserRealm splits name@realm at the last '@' and checks both regexes
// (no length check).
func splitUserRealm(s string) (name, realm string, ok bool) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", "", false
	}
	name, realm = s[:at], s[at+1:]
	return name, realm, validUserPart(name) && validRealm(realm)
}

// Userid is a validated user ID, `name@realm`.
type Userid string

// VerifyUsername checks a user ID like verify_username: 3 to 64 bytes and
// ^([^\s:/]+)@([A-Za-z][A-Za-z0-9.\-_]+)$, split at the last '@'.
func VerifyUsername(s string) error {
	_, _, err := splitUsername(s)
	return err
}

func splitUsername(s string) (string, string, error) {
	if len(s) < UsernameMinLen {
		return "", "", fmt.Errorf("user name '%s' is too short", s)
	}
	if len(s) > UsernameMaxLen {
		return "", "", fmt.Errorf("user name '%s' is too long (%d > %d)", s, len(s), UsernameMaxLen)
	}
	name, realm, ok := splitUserRealm(s)
	if !ok {
		return "", "", fmt.Errorf("value '%s' does not look like a valid user name", s)
	}
	return name, realm, nil
}

// IsUsername reports whether s passes VerifyUsername.
func IsUsername(s string) bool {
	if len(s) < UsernameMinLen || len(s) > UsernameMaxLen {
		return false
	}
	_, _, ok := splitUserRealm(s)
	return ok
}

// ParseUserid validates s as a user ID.
func ParseUserid(s string) (Userid, error) {
	if err := VerifyUsername(s); err != nil {
		return "", err
	}
	return Userid(s), nil
}

// Name returns the part before the last '@'.
func (u Userid) Name() string {
	if at := strings.LastIndexByte(string(u), '@'); at >= 0 {
		return string(u)[:at]
	}
	return string(u)
}

// Realm returns the part after the last '@'.
func (u Userid) Realm() Realm {
	if at := strings.LastIndexByte(string(u), '@'); at >= 0 {
		return Realm(string(u)[at+1:])
	}
	return ""
}

// String returns the user ID.
func (u Userid) String() string { return string(u) }

// Realm is a validated authentication realm (domain) ID.
type Realm string

// ErrRealm is the error of an invalid realm.
var ErrRealm = errors.New("value does not look like a valid realm")

// ParseRealm validates s against ^[A-Za-z][A-Za-z0-9.\-_]+$. The API's
// maxLength (RealmMaxLength) is a schema check and not applied here.
func ParseRealm(s string) (Realm, error) {
	if !validRealm(s) {
		return "", ErrRealm
	}
	return Realm(s), nil
}

// String returns the realm ID.
func (r Realm) String() string { return string(r) }

// TokenName is a validated API token sub-ID (the part after '!').
type TokenName string

// ErrTokenName is the JSONSchema pattern error of an invalid token sub-ID.
var ErrTokenName = errors.New("value does not match the regex pattern")

// ParseTokenName validates s as a token sub-ID (same regex as a realm).
func ParseTokenName(s string) (TokenName, error) {
	if !validRealm(s) {
		return "", ErrTokenName
	}
	return TokenName(s), nil
}

// String returns the token sub-ID.
func (t TokenName) String() string { return string(t) }

// splitToken splits user@realm!sub at the last '!' and validates the parts
// like token_full_regex (no length limit on the user ID).
func splitToken(s string) (Userid, TokenName, bool) {
	bang := strings.LastIndexByte(s, '!')
	if bang < 0 {
		return "", "", false
	}
	user, sub := s[:bang], s[bang+1:]
	if !validRealm(sub) {
		return "", "", false
	}
	if _, _, ok := splitUserRealm(user); !ok {
		return "", "", false
	}
	return Userid(user), TokenName(sub), true
}

// IsTokenID reports whether s matches token_full_regex.
func IsTokenID(s string) bool {
	_, _, ok := splitToken(s)
	return ok
}

// SplitTokenID splits a full token ID into user ID and token sub-ID
// (split_tokenid).
func SplitTokenID(s string) (Userid, TokenName, error) {
	u, t, ok := splitToken(s)
	if !ok {
		return "", "", fmt.Errorf("'%s' is not a valid token ID - not able to split into user and token parts", s)
	}
	return u, t, nil
}

// ParseTokenID validates a full token ID (pve_verify_tokenid).
func ParseTokenID(s string) (Authid, error) {
	if !IsTokenID(s) {
		return "", fmt.Errorf("value '%s' does not look like a valid token ID", s)
	}
	return Authid(s), nil
}

// JoinTokenID builds and validates `user!token` (join_tokenid).
func JoinTokenID(u Userid, t TokenName) (Authid, error) {
	return ParseTokenID(string(u) + "!" + string(t))
}

// Authid is a validated authentication ID: a user ID or a full token ID.
type Authid string

// ParseAuthid validates s as a user ID (verify_username) or, failing that, a
// full token ID. The two forms are disjoint.
func ParseAuthid(s string) (Authid, error) {
	err := VerifyUsername(s)
	if err == nil {
		return Authid(s), nil
	}
	if IsTokenID(s) {
		return Authid(s), nil
	}
	if strings.IndexByte(s, '!') >= 0 {
		return "", fmt.Errorf("value '%s' does not look like a valid token ID", s)
	}
	return "", err
}

// IsToken reports whether a is an API token ID rather than a user ID.
func (a Authid) IsToken() bool {
	if IsUsername(string(a)) {
		return false
	}
	return IsTokenID(string(a))
}

// User returns the user ID (for a token, its owner).
func (a Authid) User() Userid {
	if a.IsToken() {
		u, _, _ := splitToken(string(a))
		return u
	}
	return Userid(a)
}

// Token returns the token sub-ID, or "" for a plain user ID.
func (a Authid) Token() TokenName {
	if a.IsToken() {
		_, t, _ := splitToken(string(a))
		return t
	}
	return ""
}

// String returns the authentication ID.
func (a Authid) String() string { return string(a) }

// GroupID is a validated group ID.
type GroupID string

// IsGroupID reports whether s matches ^[A-Za-z0-9.\-_]+$.
func IsGroupID(s string) bool { return allWordish(s) }

// ParseGroupID validates s as a group ID (verify_groupname).
func ParseGroupID(s string) (GroupID, error) {
	if !allWordish(s) {
		return "", fmt.Errorf("group name '%s' contains invalid characters", s)
	}
	return GroupID(s), nil
}

// String returns the group ID.
func (g GroupID) String() string { return string(g) }

// RoleID is a validated role ID.
type RoleID string

// IsRoleID reports whether s matches ^[A-Za-z0-9.\-_]+$.
func IsRoleID(s string) bool { return allWordish(s) }

// ParseRoleID validates s as a role ID (verify_rolename).
func ParseRoleID(s string) (RoleID, error) {
	if !allWordish(s) {
		return "", fmt.Errorf("role name '%s' contains invalid characters", s)
	}
	return RoleID(s), nil
}

// ErrReservedRoleID is the parameter error for creating a role named PVE*.
var ErrReservedRoleID = errors.New("cannot use role ID starting with the (case-insensitive) 'PVE' namespace")

// IsReservedRoleID reports whether s starts with "PVE" in any case, which the
// role create API refuses.
func IsReservedRoleID(s string) bool {
	return len(s) >= 3 && strings.EqualFold(s[:3], "PVE")
}

// String returns the role ID.
func (r RoleID) String() string { return string(r) }

// PoolID is a validated pool ID: up to three '/'-separated levels.
type PoolID string

// PoolMaxLevels is the maximum nesting depth of a pool ID.
const PoolMaxLevels = 3

// perlSplitCount counts the fields of Perl's split(sep, s): trailing empty
// fields are dropped.
func perlSplitCount(s string, sep byte) int {
	last, field, start := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == sep {
			field++
			if i > start {
				last = field
			}
			start = i + 1
		}
	}
	return last
}

// IsPoolID reports whether s is a valid pool ID.
func IsPoolID(s string) bool {
	_, err := ParsePoolID(s)
	return err == nil
}

// ParsePoolID validates s as a pool ID (verify_poolname): at most three
// levels of [A-Za-z0-9.\-_]+ joined by '/'.
func ParsePoolID(s string) (PoolID, error) {
	if perlSplitCount(s, '/') > PoolMaxLevels {
		return "", fmt.Errorf("pool name '%s' nested too deeply (max levels = %d)", s, PoolMaxLevels)
	}
	parts := strings.Split(s, "/")
	ok := len(parts) <= PoolMaxLevels
	for _, p := range parts {
		ok = ok && allWordish(p)
	}
	if !ok {
		return "", fmt.Errorf("pool name '%s' contains invalid characters", s)
	}
	return PoolID(s), nil
}

// Parent returns the parent pool of a nested pool ID and true, or "" and
// false for a top-level pool.
func (p PoolID) Parent() (PoolID, bool) {
	if i := strings.LastIndexByte(string(p), '/'); i >= 0 {
		return p[:i], true
	}
	return "", false
}

// String returns the pool ID.
func (p PoolID) String() string { return string(p) }

// IsPoolVMID reports whether s is a VMID as user.cfg pool lines accept it
// (^\d+$).
func IsPoolVMID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// ErrVMID is the error of an invalid VMID (format pve-vmid).
var ErrVMID = errors.New("value does not look like a valid VM ID")

// VerifyVMID checks the API format pve-vmid: ^[1-9][0-9]{2,8}$ (100 to
// 999999999).
func VerifyVMID(s string) error {
	if len(s) < 3 || len(s) > 9 || s[0] == '0' || !IsPoolVMID(s) {
		return ErrVMID
	}
	return nil
}

// IsStorageID reports whether s matches ^[a-z][a-z0-9\-_.]*[a-z0-9]$ without
// regard to case (storage IDs in pools, format pve-storage-id).
func IsStorageID(s string) bool {
	if len(s) < 2 || !isAlpha(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	return allWordish(s)
}

// VerifyStorageID checks a storage ID with the text of pve-storage-id.
func VerifyStorageID(s string) error {
	if !IsStorageID(s) {
		return fmt.Errorf("storage ID '%s' contains illegal characters", s)
	}
	return nil
}
