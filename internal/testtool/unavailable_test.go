package testtool

import "testing"

func TestUnavailable(t *testing.T) {
	end := func() *recorder {
		r := &recorder{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Unavailable(r, "no network for %s", "apt-get download")
		}()
		<-done
		return r
	}
	t.Setenv("VMAPSTACK_REQUIRE_TOOLS", "")
	if r := end(); r.skip == "" || r.fatal != "" {
		t.Errorf("without VMAPSTACK_REQUIRE_TOOLS: skip %q, fatal %q; want a skip", r.skip, r.fatal)
	}
	t.Setenv("VMAPSTACK_REQUIRE_TOOLS", "1")
	if r := end(); r.fatal == "" || r.skip != "" {
		t.Errorf("with VMAPSTACK_REQUIRE_TOOLS=1: skip %q, fatal %q; want a failure", r.skip, r.fatal)
	}
}
