package revocation_test

import (
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/revocation"
)

func TestIdentityEventsBecomeSubjectEvents(t *testing.T) {
	c := newClock(t0)
	st := newStore(t, c)
	ev := revocation.IdentityEvents{Emitter: newEmitter(t, st, nil, "", c), Logger: testLogger(t)}
	ctx := t.Context()
	ev.UserDisabled(ctx, "u_disabled")
	ev.PasswordChanged(ctx, "u_password")
	ev.GrantsChanged(ctx, "u_grants", "")
	ev.GrantsChanged(ctx, "", "cl_service") // a client's own grants: its tokens' sub is the client id
	ev.GrantsChanged(ctx, "", "")           // nothing to revoke

	rows, err := st.ListRevocationEvents(ctx, 0, c.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var subs []string
	for _, r := range rows {
		if r.Kind != "sub" || r.ClientID != "" || !r.NotBefore.Equal(t0) || !r.ExpiresAt.Equal(t0.Add(5*time.Minute+30*time.Second)) {
			t.Fatalf("event %+v", r)
		}
		subs = append(subs, r.Subject)
	}
	want := []string{"u_disabled", "u_password", "u_grants", "cl_service"}
	if len(subs) != len(want) {
		t.Fatalf("subjects %v, want %v", subs, want)
	}
	for i := range want {
		if subs[i] != want[i] {
			t.Fatalf("subjects %v, want %v", subs, want)
		}
	}
}
