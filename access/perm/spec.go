package perm

import (
	"encoding/json"
	"fmt"
)

// ParseCheck reads a check in Proxmox's array form as decoded from JSON
// (e.g. ["perm", "/vms/{vmid}", ["VM.Audit"], "any", 1]).
func ParseCheck(v any) (Check, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("permission check: want a non-empty array, got %T", v)
	}
	op, ok := arr[0].(string)
	if !ok || op == "" {
		return nil, fmt.Errorf("permission check: no permission test specified")
	}
	args := arr[1:]
	switch op {
	case "and", "or":
		subs := make([]Check, 0, len(args))
		for i, a := range args {
			c, err := ParseCheck(a)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", op, i, err)
			}
			subs = append(subs, c)
		}
		if op == "and" {
			return And(subs...), nil
		}
		return Or(subs...), nil
	case "perm":
		if len(args) < 2 {
			return nil, fmt.Errorf("perm: missing parameters")
		}
		path, ok := args[0].(string)
		if !ok || path == "" {
			return nil, fmt.Errorf("perm: path must be a non-empty string")
		}
		privs, err := stringList(args[1])
		if err != nil {
			return nil, fmt.Errorf("perm %s: %w", path, err)
		}
		opts, err := options(args[2:])
		if err != nil {
			return nil, fmt.Errorf("perm %s: %w", path, err)
		}
		var po []PermOption
		for k, v := range opts {
			switch k {
			case "any":
				if truthy(v) {
					po = append(po, Any())
				}
			case "require_param":
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("perm %s: require_param must be a string", path)
				}
				po = append(po, RequireParam(s))
			default:
				return nil, fmt.Errorf("perm %s: unknown option %q", path, k)
			}
		}
		return Perm(path, privs, po...), nil
	case "userid-param":
		if len(args) != 1 {
			return nil, fmt.Errorf("userid-param: want one sub-test")
		}
		sub, ok := args[0].(string)
		if !ok || (sub != UseridSelf && sub != UseridRealmAllocateUser) {
			return nil, fmt.Errorf("userid-param: unknown test %v", args[0])
		}
		return UseridParam(sub), nil
	case "userid-group":
		if len(args) < 1 {
			return nil, fmt.Errorf("userid-group: missing privileges")
		}
		privs, err := stringList(args[0])
		if err != nil {
			return nil, fmt.Errorf("userid-group: %w", err)
		}
		opts, err := options(args[1:])
		if err != nil {
			return nil, fmt.Errorf("userid-group: %w", err)
		}
		var go_ []GroupOption
		for k, v := range opts {
			s, ok := v.(string)
			if k != "groups_param" || !ok {
				return nil, fmt.Errorf("userid-group: unknown option %q", k)
			}
			go_ = append(go_, GroupsParam(s))
		}
		return UseridGroup(privs, go_...), nil
	case "perm-modify":
		if len(args) != 1 {
			return nil, fmt.Errorf("perm-modify: want one path")
		}
		path, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("perm-modify: path must be a string")
		}
		return PermModify(path), nil
	}
	return nil, fmt.Errorf("permission check: unknown permission test %q", op)
}

func stringList(v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("privileges must be an array, got %T", v)
	}
	out := make([]string, len(arr))
	for i, a := range arr {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("privilege %d is %T, not a string", i, a)
		}
		if !validPrivilege(s) {
			return nil, fmt.Errorf("invalid privilege '%s'", s)
		}
		out[i] = s
	}
	return out, nil
}

// options reads Perl's trailing key => value pairs.
func options(args []any) (map[string]any, error) {
	if len(args)%2 != 0 {
		return nil, fmt.Errorf("options must come in key/value pairs")
	}
	m := make(map[string]any, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		k, ok := args[i].(string)
		if !ok {
			return nil, fmt.Errorf("option name %v is not a string", args[i])
		}
		m[k] = args[i+1]
	}
	return m, nil
}

// truthy is Perl truthiness of a JSON-decoded scalar.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case json.Number:
		return x.String() != "0"
	case string:
		return !perlFalse(x)
	}
	return true
}

// MarshalJSON renders the declaration as the API schema shows it
// ({"check": [...], "description": "...", "user": "..."}).
func (d Decl) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if d.Check != nil {
		m["check"] = d.Check.Spec()
	}
	if d.Description != "" {
		m["description"] = d.Description
	}
	if d.User != "" {
		m["user"] = d.User
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads a declaration in the API schema's form.
func (d *Decl) UnmarshalJSON(data []byte) error {
	var raw struct {
		Check       any    `json:"check"`
		Description string `json:"description"`
		User        string `json:"user"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("permissions: %w", err)
	}
	*d = Decl{User: raw.User, Description: raw.Description}
	if raw.Check != nil {
		c, err := ParseCheck(raw.Check)
		if err != nil {
			return fmt.Errorf("permissions: %w", err)
		}
		d.Check = c
	}
	switch d.User {
	case "", "all", "world":
	default:
		return fmt.Errorf("permissions: unknown user %q", d.User)
	}
	return nil
}
