package api

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestValidateParams(t *testing.T) {
	decl := []Param{
		{Name: "userid", Pattern: regexp.MustCompile(`^\S+@\S+$`), MaxLength: 16},
		{Name: "enable", Type: TBoolean, Optional: true, Default: "1"},
		{Name: "expire", Type: TInteger, Optional: true, Min: Int64(0)},
		{Name: "mode", Optional: true, Enum: []string{"b", "a"}},
	}
	tests := []struct {
		name    string
		raw     map[string]string
		want    Params
		wantErr map[string]string
	}{
		{"ok with default", map[string]string{"userid": "a@pve"}, Params{"userid": "a@pve", "enable": "1"}, nil},
		{"booleans 0/1 only", map[string]string{"userid": "a@pve", "enable": "true"}, nil,
			map[string]string{"enable": "type check ('boolean') failed - got 'true'"}},
		{"missing", map[string]string{}, nil, map[string]string{"userid": "property is missing and it is not optional"}},
		{"unknown", map[string]string{"userid": "a@pve", "bogus": "1"}, nil,
			map[string]string{"bogus": "property is not defined in schema and the schema does not allow additional properties"}},
		{"pattern and length", map[string]string{"userid": "no-realm"}, nil, map[string]string{"userid": "value does not match the regex pattern"}},
		{"too long", map[string]string{"userid": strings.Repeat("a", 14) + "@pve"}, nil, map[string]string{"userid": "value may only be 16 characters long"}},
		{"integer", map[string]string{"userid": "a@pve", "expire": "x"}, nil, map[string]string{"expire": "type check ('integer') failed - got 'x'"}},
		{"minimum", map[string]string{"userid": "a@pve", "expire": "-1"}, nil, map[string]string{"expire": "value must have a minimum value of 0"}},
		{"enum", map[string]string{"userid": "a@pve", "mode": "c"}, nil, map[string]string{"mode": "value 'c' does not have a value in the enumeration 'a, b'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := validate(decl, tc.raw, nil)
			if tc.wantErr != nil {
				ae, ok := err.(*Error)
				if !ok || ae.Status != 400 || ae.Message != ParamMessage {
					t.Fatalf("want 400 param error, got %v", err)
				}
				for k, v := range tc.wantErr {
					if ae.Errors[k] != v {
						t.Errorf("errors[%s] = %q, want %q", k, ae.Errors[k], v)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestRawParamsJSONAndConflicts(t *testing.T) {
	r := httptest.NewRequest("POST", "/x?comment=q", strings.NewReader(`{"enable":true,"privsep":false,"groups":["a","b"],"expire":0,"comment":"body","skip":null}`))
	r.Header.Set("Content-Type", "application/json")
	raw, err := rawParams(r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"enable": "1", "privsep": "0", "groups": arrayMark + "a,b", "expire": "0", "comment": "q"}
	for k, v := range want {
		if raw[k] != v {
			t.Errorf("%s = %q, want %q", k, raw[k], v)
		}
	}
	if _, ok := raw["skip"]; ok {
		t.Error("null should be absent")
	}
	// arrays are joined for list parameters and refused for others
	p, err := validate([]Param{{Name: "groups", List: true}, {Name: "comment", Optional: true}}, map[string]string{"groups": raw["groups"]}, nil)
	if err != nil || p["groups"] != "a,b" {
		t.Fatalf("list param: %v %v", p, err)
	}
	_, err = validate([]Param{{Name: "keys", Optional: true}}, map[string]string{"keys": arrayMark + "x"}, nil)
	if ae, ok := err.(*Error); !ok || ae.Errors["keys"] != "type check ('string') failed - got ARRAY" {
		t.Fatalf("array for a string: %v", err)
	}
	_, err = validate([]Param{{Name: "userid"}}, map[string]string{"userid": "b@pve"}, map[string]string{"userid": "a@pve"})
	if err == nil || !strings.Contains(err.Error(), "conflicting values") {
		t.Fatalf("conflict: %v", err)
	}
	f := httptest.NewRequest("PUT", "/x", strings.NewReader("comment=a%3Db&tokens=x&tokens=y"))
	f.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	raw, _ = rawParams(f)
	if raw["comment"] != "a=b" || raw["tokens"] != "x,y" {
		t.Fatalf("form: %v", raw)
	}
}

func TestReasonPhrase(t *testing.T) {
	for in, want := range map[string]string{
		"Parameter verification failed.\n": "Parameter verification failed.",
		"a\nb":                             "a",
		"":                                 "Internal Server Error",
		"tab\there":                        "tab here",
	} {
		if got := reasonPhrase(in); got != want {
			t.Errorf("reasonPhrase(%q) = %q, want %q", in, got, want)
		}
	}
}
