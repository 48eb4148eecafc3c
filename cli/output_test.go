package cli

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestPrint(t *testing.T) {
	tokenAdd := `{"full-tokenid":"joe@pve!monitoring","info":{"privsep":1},"value":"d1f8aa5d-0000-4000-8000-000000000000"}`
	users := `[{"userid":"root@pam","enable":1,"expire":0,"realm-type":"pam"},{"userid":"joe@pve","enable":0,"expire":0,"email":"j@x.org","tokens":[{"tokenid":"m","privsep":1}]}]`
	userCols := Columns(Column{Name: "userid"}, Column{Name: "enable", Type: TBoolean, Optional: true}, Column{Name: "expire", Type: TInteger, Optional: true},
		Column{Name: "email", Optional: true}, Column{Name: "tokens", Optional: true})
	tests := []struct {
		name   string
		format Format
		data   string
		schema Schema
		want   string
	}{
		{"token add key/value", Format{Output: FormatText}, tokenAdd, Schema{Kind: KindObject},
			"┌──────────────┬──────────────────────────────────────┐\n" +
				"│ key          │ value                                │\n" +
				"╞══════════════╪══════════════════════════════════════╡\n" +
				"│ full-tokenid │ joe@pve!monitoring                   │\n" +
				"├──────────────┼──────────────────────────────────────┤\n" +
				"│ info         │ {\"privsep\":1}                        │\n" +
				"├──────────────┼──────────────────────────────────────┤\n" +
				"│ value        │ d1f8aa5d-0000-4000-8000-000000000000 │\n" +
				"└──────────────┴──────────────────────────────────────┘\n"},
		{"list sorted by first column, required first", Format{Output: FormatText}, users, Schema{Kind: KindList, Columns: userCols},
			"┌──────────┬─────────┬────────┬────────┬───────────────────────────────┐\n" +
				"│ userid   │ email   │ enable │ expire │ tokens                        │\n" +
				"╞══════════╪═════════╪════════╪════════╪═══════════════════════════════╡\n" +
				"│ joe@pve  │ j@x.org │ 0      │ 0      │ [{\"privsep\":1,\"tokenid\":\"m\"}] │\n" +
				"├──────────┼─────────┼────────┼────────┼───────────────────────────────┤\n" +
				"│ root@pam │         │ 1      │ 0      │                               │\n" +
				"└──────────┴─────────┴────────┴────────┴───────────────────────────────┘\n"},
		{"noborder", Format{Output: FormatText, NoBorder: true}, `[{"a":"x","b":"long value"},{"a":"yyy","b":"z"}]`,
			Schema{Kind: KindList, Columns: []Column{{Name: "a"}, {Name: "b"}}},
			"a   b\nx   long value\nyyy z\n"},
		{"noheader", Format{Output: FormatText, NoHeader: true}, `[{"a":"x"}]`, Schema{Kind: KindList, Columns: []Column{{Name: "a"}}},
			"┌───┐\n│ x │\n└───┘\n"},
		{"ascii", Format{Output: FormatText, ASCII: true}, `[{"a":"x"},{"a":"y"}]`, Schema{Kind: KindList, Columns: []Column{{Name: "a"}}},
			"+---+\n| a |\n+===+\n| x |\n+---+\n| y |\n+---+\n"},
		{"multi-line cells", Format{Output: FormatText}, `[{"path":"/","permissions":"A (*)\nB"}]`,
			Schema{Kind: KindList, Columns: []Column{{Name: "path", Title: "ACL path"}, {Name: "permissions", Title: "Permissions"}}},
			"┌──────────┬─────────────┐\n│ ACL path │ Permissions │\n╞══════════╪═════════════╡\n│ /        │ A (*)       │\n│          │ B           │\n└──────────┴─────────────┘\n"},
		{"numeric sort", Format{Output: FormatText, NoBorder: true, NoHeader: true}, `[{"n":10},{"n":9}]`,
			Schema{Kind: KindList, Columns: []Column{{Name: "n", Type: TInteger}}}, "9\n10\n"},
		{"empty list prints nothing", Format{Output: FormatText}, `[]`, Schema{Kind: KindList}, ""},
		{"empty list json", Format{Output: FormatJSON}, `[]`, Schema{Kind: KindList}, "[]\n"},
		{"null prints nothing", Format{Output: FormatJSON}, `null`, Schema{Kind: KindNull}, ""},
		{"scalar", Format{Output: FormatText}, `"UPID:x"`, Schema{Kind: KindScalar}, "UPID:x\n"},
		{"scalar array", Format{Output: FormatText}, `["b","a"]`, Schema{Kind: KindArray}, "┌───────┐\n│ b     │\n├───────┤\n│ a     │\n└───────┘\n"}, // the hidden "value" title still counts, as in Perl
		{"json canonical", Format{Output: FormatJSON}, `{"b":1,"a":{"d":"</x>","c":[1,2.5]}}`, Schema{Kind: KindObject},
			`{"a":{"c":[1,2.5],"d":"</x>"},"b":1}` + "\n"},
		{"json-pretty perl style", Format{Output: FormatJSONPretty}, `{"b":[],"a":{"c":[1,"x"]},"e":{}}`, Schema{Kind: KindObject},
			"{\n   \"a\" : {\n      \"c\" : [\n         1,\n         \"x\"\n      ]\n   },\n   \"b\" : [],\n   \"e\" : {}\n}\n"},
		{"yaml list of maps", Format{Output: FormatYAML}, `[{"userid":"root@pam","enable":1,"comment":"","groups":"1"}]`, Schema{Kind: KindList},
			"---\n-\n  comment: ''\n  enable: 1\n  groups: '1'\n  userid: root@pam\n"},
		{"yaml quoting", Format{Output: FormatYAML}, `{"a":"yes","b":"x y","c":"it's","d":null,"e":"@x","f":[],"g":{},"h":"a:"}`, Schema{Kind: KindObject},
			"---\na: 'yes'\nb: 'x y'\nc: \"it's\"\nd: ~\ne: '@x'\nf: []\ng: {}\nh: 'a:'\n"},
		{"yaml scalar", Format{Output: FormatYAML}, `"x"`, Schema{Kind: KindScalar}, "--- x\n"},
		{"quiet", Format{Output: FormatText, Quiet: true}, `"x"`, Schema{Kind: KindScalar}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.format.Print(&b, json.RawMessage(tt.data), tt.schema); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestFormatFrom(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name  string
		v     Values
		env   map[string]string
		out   string
		ascii bool
		err   bool
	}{
		{"default", Values{}, nil, FormatText, false, false},
		{"json", Values{"output-format": "json"}, nil, FormatJSON, false, false},
		{"bad", Values{"output-format": "xml"}, nil, "", false, true},
		{"C locale", Values{}, map[string]string{"LANG": "C"}, FormatText, true, false},
		{"utf8 locale", Values{}, map[string]string{"LANG": "C", "LC_ALL": "en_US.UTF-8"}, FormatText, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := FormatFrom(tt.v, env(tt.env))
			if (err != nil) != tt.err {
				t.Fatalf("err %v", err)
			}
			if err == nil && (f.Output != tt.out || f.ASCII != tt.ascii) {
				t.Fatalf("got %+v", f)
			}
		})
	}
}

func TestInvalidJSON(t *testing.T) {
	var b bytes.Buffer
	if err := (Format{Output: FormatText}).Print(&b, json.RawMessage(`{`), Schema{Kind: KindObject}); err == nil {
		t.Fatal("no error for invalid JSON")
	}
}
