package perm

import (
	"reflect"
	"sync"
	"testing"
)

func TestGroupHelpers(t *testing.T) {
	c := newTestConfig().user("a@pve", "g1", "g2").user("b@pve", "g2")
	c.Groups = c.Groups.Set("empty", nil)
	c.Group("g2").Users["ghost@pve"] = struct{}{} // kept unknown member
	c.acl(true, "/access/groups/g1", "b@pve", "PVEUserAdmin").
		acl(true, "/access/groups/g2", "b@pve", "PVEAuditor").
		acl(true, "/x", "@undefined", "PVEAuditor")
	e := Compile(c.Config)
	if got, want := e.Groups(), []string{"empty", "g1", "g2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Groups() = %v, want %v", got, want)
	}
	if got, want := e.GroupMembers("g2"), []string{"a@pve", "b@pve", "ghost@pve"}; !reflect.DeepEqual(got, want) {
		t.Errorf("GroupMembers(g2) = %v, want %v", got, want)
	}
	if e.GroupMembers("undefined") != nil || e.GroupExists("undefined") || !e.GroupExists("empty") {
		t.Errorf("a group named only by an ACL is not defined")
	}
	if !e.IsGroupMember("g1", "a@pve") || e.IsGroupMember("g1", "b@pve") || !e.IsGroupMember("g2", "ghost@pve") {
		t.Errorf("IsGroupMember wrong")
	}
	if !e.UserExists("a@pve") || e.UserExists("ghost@pve") || e.UserExists("a@pve!t1") || !e.UserExists("root@pam") {
		t.Errorf("UserExists wrong")
	}
	if got, want := e.FilterGroups("b@pve", []string{"User.Modify", "Sys.Audit"}, true), []string{"g1", "g2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("FilterGroups(any) = %v, want %v", got, want)
	}
	if got, want := e.FilterGroups("b@pve", []string{"User.Modify"}, false), []string{"g1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("FilterGroups(all) = %v, want %v", got, want)
	}
}

// TestConcurrentChecks shares one Engine between goroutines (run with -race).
func TestConcurrentChecks(t *testing.T) {
	e, _ := loadEngine(t, "test6.cfg")
	want := map[string]bool{}
	paths := []string{"/vms/500", "/vms/700", "/storage/store1", "/pool/marketing/interns", "/vms"}
	users := []string{"User1@pve", "User2@pve", "User3@pve", "User4@pve", "intern@pve"}
	for _, u := range users {
		for _, p := range paths {
			want[u+p] = e.Check(u, p, []string{"VM.Console"}, false)
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				for _, u := range users {
					for _, p := range paths {
						if e.Check(u, p, []string{"VM.Console"}, false) != want[u+p] {
							t.Errorf("concurrent Check(%s, %s) differs", u, p)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}
