package mutate

import (
	"reflect"
	"testing"

	"github.com/pvecfs/pvecfs/cfs"
)

func TestCreateToken(t *testing.T) {
	tests := []struct {
		name string
		req  TokenCreate
		err  *wantErr
		want *TokenCreateResult
	}{
		{"defaults", TokenCreate{Userid: "bob@pve", Tokenid: "new", Hash: hashB}, nil,
			&TokenCreateResult{FullTokenid: "bob@pve!new", Info: TokenInfo{Privsep: 1}}},
		{"all settings", TokenCreate{Userid: "carol@ldap1", Tokenid: "a.b-c_d", Hash: hashB, Privsep: ptr(false), Expire: ptr(int64(0)), Comment: " x "}, nil,
			&TokenCreateResult{FullTokenid: "carol@ldap1!a.b-c_d", Info: TokenInfo{Privsep: 0, Expire: ptr(int64(0)), Comment: "x"}}},
		{"exists", TokenCreate{Userid: "alice@pve", Tokenid: "ci", Hash: hashB}, eParam("tokenid", "Token already exists."), nil},
		{"no such user", TokenCreate{Userid: "x@pve", Tokenid: "ci", Hash: hashB}, e500c(cfs.CodeNotFound, "no such user ('x@pve')\n"), nil},
		{"clear secret", TokenCreate{Userid: "bob@pve", Tokenid: "new", Hash: "aaaaaaaa-1111-4111-8111-111111111111"}, e400("token secret must be given as its hash (tokens.HashSecret)"), nil},
		{"bad token name", TokenCreate{Userid: "bob@pve", Tokenid: "1x", Hash: hashB}, eParam("tokenid", "value does not match the regex pattern"), nil},
		{"bad userid", TokenCreate{Userid: "bob", Tokenid: "xx", Hash: hashB}, eParam("userid", "invalid format - value 'bob' does not look like a valid user name\n"), nil},
		{"bad expire", TokenCreate{Userid: "bob@pve", Tokenid: "xx", Hash: hashB, Expire: ptr(int64(-1))}, eParam("expire", "value must have a minimum value of 0"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := baseModels(t)
			var res *TokenCreateResult
			n := runModels(t, old, tt.err, func(m Models) (Models, error) {
				var err error
				m, res, err = CreateToken(m, tt.req)
				return m, err
			})
			if tt.err != nil {
				return
			}
			if !reflect.DeepEqual(res, tt.want) {
				t.Fatalf("result = %+v, want %+v", res, tt.want)
			}
			if h, _ := n.Tokens.Hash(tt.want.FullTokenid); h != tt.req.Hash {
				t.Errorf("stored hash = %q", h)
			}
			if n.Users.User(tt.req.Userid).Token(tt.req.Tokenid) == nil {
				t.Error("token not in user.cfg")
			}
			if n.Shadow != old.Shadow || n.Domains != old.Domains {
				t.Error("unrelated file changed")
			}
		})
	}
}

func TestUpdateToken(t *testing.T) {
	tests := []struct {
		name string
		req  TokenUpdate
		err  *wantErr
		want *TokenUpdateResult
		hash string
	}{
		{"settings", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Privsep: ptr(false), Expire: ptr(int64(99)), Comment: ptr("new")}, nil,
			&TokenUpdateResult{Privsep: 0, Expire: 99, Comment: "new"}, hashA},
		{"nothing", TokenUpdate{Userid: "alice@pve", Tokenid: "ci"}, nil, &TokenUpdateResult{Privsep: 1, Comment: "CI"}, hashA},
		{"empty comment removes", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Comment: ptr("")}, nil, &TokenUpdateResult{Privsep: 1}, hashA},
		{"delete comment", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Delete: []string{"comment"}}, nil, &TokenUpdateResult{Privsep: 1}, hashA},
		{"delete then set", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Delete: []string{"comment"}, Comment: ptr("z")}, nil, &TokenUpdateResult{Privsep: 1, Comment: "z"}, hashA},
		{"regenerate", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Regenerate: true, Hash: hashB}, nil,
			&TokenUpdateResult{Privsep: 1, Comment: "CI", FullTokenid: "alice@pve!ci"}, hashB},
		{"unknown delete option", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Delete: []string{"comment", "expire"}},
			e500("updating token info failed: 400 Parameter verification failed.\ndelete: unknown option 'expire'\n"), nil, ""},
		{"regenerate without hash", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Regenerate: true}, e400("token secret must be given as its hash (tokens.HashSecret)"), nil, ""},
		{"hash without regenerate", TokenUpdate{Userid: "alice@pve", Tokenid: "ci", Hash: hashB}, e400("a token hash is only accepted with regenerate"), nil, ""},
		{"no such token", TokenUpdate{Userid: "alice@pve", Tokenid: "nope"}, e500c(cfs.CodeNotFound, "no such token 'nope' for user 'alice@pve'\n"), nil, ""},
		{"no such user", TokenUpdate{Userid: "x@pve", Tokenid: "ci"}, e500c(cfs.CodeNotFound, "no such user ('x@pve')\n"), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := baseModels(t)
			var res *TokenUpdateResult
			n := runModels(t, old, tt.err, func(m Models) (Models, error) {
				var err error
				m, res, err = UpdateToken(m, tt.req)
				return m, err
			})
			if tt.err != nil {
				return
			}
			if !reflect.DeepEqual(res, tt.want) {
				t.Fatalf("result = %+v, want %+v", res, tt.want)
			}
			if h, _ := n.Tokens.Hash("alice@pve!ci"); h != tt.hash {
				t.Errorf("hash = %q, want %q", h, tt.hash)
			}
			if !tt.req.Regenerate && n.Tokens != old.Tokens {
				t.Error("token.cfg changed without regenerate")
			}
			tok := n.Users.User("alice@pve").Token("ci")
			if b2i(tok.Privsep) != tt.want.Privsep || tok.Expire != tt.want.Expire || tok.Comment != tt.want.Comment {
				t.Errorf("stored token = %+v", tok)
			}
		})
	}
}

func TestDeleteToken(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		n := runModels(t, baseModels(t), nil, func(m Models) (Models, error) {
			return DeleteToken(m, TokenDelete{Userid: "alice@pve", Tokenid: "mon"})
		})
		if n.Users.User("alice@pve").Token("mon") != nil || n.Tokens.Has("alice@pve!mon") {
			t.Fatal("token remains")
		}
		if n.Users.Find("/pool") != nil {
			t.Error("token ACL remains")
		}
		if !n.Tokens.Has("alice@pve!ci") || n.Users.User("alice@pve").Token("ci") == nil {
			t.Error("other token lost")
		}
	})
	t.Run("last token", func(t *testing.T) {
		n := runModels(t, baseModels(t), nil, func(m Models) (Models, error) {
			return DeleteToken(m, TokenDelete{Userid: "bob@pve", Tokenid: "t1"})
		})
		if n.Users.User("bob@pve").Tokens.Len() != 0 || n.Users.Find("/nodes/n1") != nil {
			t.Error("token or its ACL remains")
		}
		if n.Users.Find("/nodes") == nil {
			t.Error("/nodes lost")
		}
	})
	for _, tt := range []struct {
		name string
		req  TokenDelete
		err  *wantErr
	}{
		{"no such token", TokenDelete{Userid: "bob@pve", Tokenid: "xx"}, e500c(cfs.CodeNotFound, "no such token 'xx' for user 'bob@pve'\n")},
		{"no such user", TokenDelete{Userid: "x@pve", Tokenid: "xx"}, e500c(cfs.CodeNotFound, "no such user ('x@pve')\n")},
		{"bad name", TokenDelete{Userid: "bob@pve", Tokenid: "x"}, eParam("tokenid", "value does not match the regex pattern")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			runModels(t, baseModels(t), tt.err, func(m Models) (Models, error) { return DeleteToken(m, tt.req) })
		})
	}
}
