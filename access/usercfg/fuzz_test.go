package usercfg

import (
	"os"
	"testing"
)

// FuzzParseUserCfg checks that Parse never panics and that its model is
// canonical: rendering it and parsing the output gives the same model, which
// renders to the same bytes.
func FuzzParseUserCfg(f *testing.F) {
	for _, file := range fixtureFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, c := range loadGolden(f) {
		f.Add([]byte(c.Input))
		f.Add([]byte(c.Written))
	}
	f.Add([]byte(example14In))
	f.Add([]byte("user:a@pve:1:0:%ED%A0%80:%FF: x :%20%30%20:0\ngroup:g:a@pve\x00b,c@pve\x00\x00\npool:a/b/c::0100,7:s1\n"))
	f.Add([]byte("user:a@pve:1\ntoken:a@pve!t1\nacl:1:0/:a@pve!t1,@g,root@pam:PVEAdmin\nuser:a@pve\nrole:PVEAdmin:Sys.Modify\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _ := Parse(data)
		out := cfg.Render()
		again, _ := Parse(out)
		if a, b := toJSON(cfg), toJSON(again); !jsonEqual(a, b) {
			t.Fatalf("re-parsed model differs\ninput:  %q\noutput: %q", data, out)
		}
		if out2 := again.Render(); string(out2) != string(out) {
			t.Fatalf("second render differs\n%q\n%q", out, out2)
		}
		checkDerived(t, cfg)
	})
}
