package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/authserver/internal/storage"
)

func testSigningKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	k1 := &storage.SigningKey{ID: "k1", Algorithm: "EdDSA", PrivateKey: []byte{0, 1, 2, 255}, PublicJWK: []byte(`{"kty":"OKP"}`),
		CreatedAt: at, ActivatesAt: at.Add(time.Hour)}
	k0 := &storage.SigningKey{ID: "k0", Algorithm: "RS256", PrivateKey: []byte("p0"), PublicJWK: []byte("{}"), ActivatesAt: at}
	must(t, s.CreateSigningKey(ctx, k1))
	must(t, s.CreateSigningKey(ctx, k0))
	if k0.CreatedAt.IsZero() {
		t.Fatal("CreateSigningKey did not fill CreatedAt")
	}
	is(t, s.CreateSigningKey(ctx, &storage.SigningKey{ID: "k1", Algorithm: "EdDSA", ActivatesAt: at}), storage.ErrAlreadyExists, "duplicate kid")

	ks, err := s.ListSigningKeys(ctx)
	must(t, err)
	if len(ks) != 2 || ks[0].ID != "k0" || ks[1].ID != "k1" {
		t.Fatalf("ListSigningKeys order = %v, want k0 then k1 (by ActivatesAt)", names(ks, func(k storage.SigningKey) string { return k.ID }))
	}
	if got := ks[1]; string(got.PrivateKey) != string(k1.PrivateKey) || string(got.PublicJWK) != `{"kty":"OKP"}` ||
		!got.CreatedAt.Equal(at) || !got.ActivatesAt.Equal(at.Add(time.Hour)) || got.RetiredAt != nil || got.ExpiresAt != nil {
		t.Fatalf("key read back as %+v", got)
	}

	retired, expires := at.Add(2*time.Hour), at.Add(3*time.Hour)
	upd, err := s.UpdateSigningKey(ctx, "k0", func(k *storage.SigningKey) error {
		k.RetiredAt, k.ExpiresAt = &retired, &expires
		return nil
	})
	must(t, err)
	if upd.RetiredAt == nil || !upd.RetiredAt.Equal(retired) {
		t.Fatalf("UpdateSigningKey = %+v", upd)
	}
	ks, _ = s.ListSigningKeys(ctx)
	if ks[0].RetiredAt == nil || !ks[0].RetiredAt.Equal(retired) || ks[0].ExpiresAt == nil || !ks[0].ExpiresAt.Equal(expires) {
		t.Fatalf("retired key read back as %+v", ks[0])
	}
	_, err = s.UpdateSigningKey(ctx, "nope", func(*storage.SigningKey) error { return nil })
	is(t, err, storage.ErrNotFound, "UpdateSigningKey(missing)")
	must(t, s.DeleteSigningKey(ctx, "k0"))
	is(t, s.DeleteSigningKey(ctx, "k0"), storage.ErrNotFound, "DeleteSigningKey twice")
}

func testRefreshTokens(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u := user(t, s, "alice")
	c := client(t, s, "web")
	rt := &storage.RefreshToken{TokenHash: "h1", UserID: u.ID, ClientID: c.ID, Scope: "openid offline_access",
		Account: "acme", AuthTime: at, ExpiresAt: at.Add(time.Hour)}
	must(t, s.CreateRefreshToken(ctx, rt))
	if rt.ID == "" || rt.FamilyID != rt.ID || rt.IssuedAt.IsZero() {
		t.Fatalf("CreateRefreshToken did not fill ID, FamilyID and IssuedAt: %+v", rt)
	}
	is(t, s.CreateRefreshToken(ctx, &storage.RefreshToken{TokenHash: "h1", UserID: u.ID, ClientID: c.ID,
		AuthTime: at, ExpiresAt: at}), storage.ErrAlreadyExists, "duplicate hash")
	is(t, s.CreateRefreshToken(ctx, &storage.RefreshToken{TokenHash: "h9", ClientID: "cl_nope",
		AuthTime: at, ExpiresAt: at}), storage.ErrNotFound, "refresh token of a missing client")
	child := &storage.RefreshToken{TokenHash: "h2", FamilyID: rt.FamilyID, ParentID: rt.ID, UserID: u.ID, ClientID: c.ID,
		AuthTime: at, IssuedAt: at.Add(time.Minute), ExpiresAt: at.Add(time.Hour)}
	must(t, s.CreateRefreshToken(ctx, child))

	got, err := s.GetRefreshTokenByHash(ctx, "h2")
	must(t, err)
	if got.ID != child.ID || got.FamilyID != rt.ID || got.ParentID != rt.ID || got.UserID != u.ID || got.ClientID != c.ID ||
		!got.AuthTime.Equal(at) || !got.IssuedAt.Equal(at.Add(time.Minute)) || got.UsedAt != nil || got.RevokedAt != nil {
		t.Fatalf("GetRefreshTokenByHash = %+v", got)
	}
	if g1, _ := s.GetRefreshTokenByHash(ctx, "h1"); g1.Scope != "openid offline_access" || g1.Account != "acme" {
		t.Fatalf("scope/account read back as %+v", g1)
	}
	_, err = s.GetRefreshTokenByHash(ctx, "nope")
	is(t, err, storage.ErrNotFound, "GetRefreshTokenByHash(missing)")

	// A client_credentials-style token has no user.
	must(t, s.CreateRefreshToken(ctx, &storage.RefreshToken{TokenHash: "h3", ClientID: c.ID, AuthTime: at, ExpiresAt: at.Add(time.Hour)}))
	if g3, err := s.GetRefreshTokenByHash(ctx, "h3"); err != nil || g3.UserID != "" {
		t.Fatalf("userless refresh token = %+v, %v", g3, err)
	}

	won, err := s.MarkRefreshTokenUsed(ctx, rt.ID, at.Add(time.Minute))
	must(t, err)
	if !won {
		t.Fatal("first MarkRefreshTokenUsed lost")
	}
	won, err = s.MarkRefreshTokenUsed(ctx, rt.ID, at.Add(2*time.Minute))
	must(t, err)
	if won {
		t.Fatal("second MarkRefreshTokenUsed won")
	}
	if g1, _ := s.GetRefreshTokenByHash(ctx, "h1"); g1.UsedAt == nil || !g1.UsedAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("UsedAt = %v, want the first call's time", g1.UsedAt)
	}
	_, err = s.MarkRefreshTokenUsed(ctx, "rt_nope", at)
	is(t, err, storage.ErrNotFound, "MarkRefreshTokenUsed(missing)")

	n, err := s.DeleteExpiredRefreshTokens(ctx, at.Add(30*time.Minute))
	must(t, err)
	if n != 0 {
		t.Fatalf("deleted %d unexpired tokens", n)
	}
	n, err = s.DeleteExpiredRefreshTokens(ctx, at.Add(2*time.Hour))
	must(t, err)
	if n != 3 {
		t.Fatalf("DeleteExpiredRefreshTokens = %d, want 3", n)
	}
	_, err = s.GetRefreshTokenByHash(ctx, "h1")
	is(t, err, storage.ErrNotFound, "expired token after cleanup")
}

func testRefreshTokenMarkUsedRace(t *testing.T, s storage.Store) {
	u := user(t, s, "alice")
	c := client(t, s, "web")
	const tokens, racers = 5, 8
	for i := range tokens {
		rt := refreshToken(t, s, fmt.Sprintf("race%d", i), u.ID, c.ID, "")
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range racers {
			wg.Go(func() {
				<-start
				won, err := s.MarkRefreshTokenUsed(t.Context(), rt.ID, time.Now())
				if err != nil {
					t.Error(err)
				}
				if won {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("token %d: %d of %d racing refreshes won, want exactly 1", i, n, racers)
		}
	}
}

func testRefreshTokenRevocation(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, b := user(t, s, "alice"), user(t, s, "bob")
	c, d := client(t, s, "web"), client(t, s, "cli")
	refreshToken(t, s, "f1a", a.ID, c.ID, "fam1")
	refreshToken(t, s, "f1b", a.ID, c.ID, "fam1")
	refreshToken(t, s, "f2", a.ID, d.ID, "fam2")
	refreshToken(t, s, "f3", a.ID, c.ID, "fam3")
	refreshToken(t, s, "f4", b.ID, c.ID, "fam4")
	revoked := func(hash string) bool {
		t.Helper()
		rt, err := s.GetRefreshTokenByHash(ctx, hash)
		must(t, err)
		return rt.RevokedAt != nil
	}

	n, err := s.RevokeRefreshFamily(ctx, "fam1", at)
	must(t, err)
	if n != 2 || !revoked("f1a") || !revoked("f1b") || revoked("f3") {
		t.Fatalf("RevokeRefreshFamily = %d", n)
	}
	if n, _ := s.RevokeRefreshFamily(ctx, "fam1", at.Add(time.Minute)); n != 0 {
		t.Fatalf("revoking a revoked family changed %d tokens", n)
	}
	if rt, _ := s.GetRefreshTokenByHash(ctx, "f1a"); !rt.RevokedAt.Equal(at) {
		t.Fatalf("second revoke moved RevokedAt to %v", rt.RevokedAt)
	}

	n, err = s.RevokeRefreshTokensOfUser(ctx, a.ID, d.ID, at)
	must(t, err)
	if n != 1 || !revoked("f2") || revoked("f3") {
		t.Fatalf("RevokeRefreshTokensOfUser(one client) = %d", n)
	}
	n, err = s.RevokeRefreshTokensOfUser(ctx, a.ID, "", at)
	must(t, err)
	if n != 1 || !revoked("f3") || revoked("f4") {
		t.Fatalf("RevokeRefreshTokensOfUser(all clients) = %d", n)
	}
}

func testRevocationEvents(t *testing.T, s storage.Store) {
	ctx := t.Context()
	var seqs []int64
	for i, e := range []storage.RevocationEvent{
		{Kind: "jti", JTI: "j1", ExpiresAt: at.Add(time.Hour)},
		{Kind: "sub", Subject: "u_1", ClientID: "web", NotBefore: at, ExpiresAt: at.Add(2 * time.Hour)},
		{Kind: "jti", JTI: "j2", ExpiresAt: at.Add(10 * time.Minute)},
		{Kind: "sub", Subject: "u_2", NotBefore: at, ExpiresAt: at.Add(3 * time.Hour)},
	} {
		e.CreatedAt = at.Add(time.Duration(i) * time.Second)
		must(t, s.AppendRevocationEvent(ctx, &e))
		seqs = append(seqs, e.Seq)
	}
	for i := range seqs {
		if seqs[i] <= 0 || (i > 0 && seqs[i] <= seqs[i-1]) {
			t.Fatalf("seqs %v are not positive and strictly increasing", seqs)
		}
	}
	is(t, s.AppendRevocationEvent(ctx, &storage.RevocationEvent{Kind: "all", ExpiresAt: at}), storage.ErrInvalid, "unknown kind")

	all, err := s.ListRevocationEvents(ctx, 0, at, 100)
	must(t, err)
	if len(all) != 4 || all[1].Subject != "u_1" || all[1].ClientID != "web" || !all[1].NotBefore.Equal(at) ||
		!all[1].ExpiresAt.Equal(at.Add(2*time.Hour)) || !all[1].CreatedAt.Equal(at.Add(time.Second)) {
		t.Fatalf("ListRevocationEvents = %+v", all)
	}
	after, err := s.ListRevocationEvents(ctx, seqs[1], at, 100)
	must(t, err)
	if len(after) != 2 || after[0].Seq != seqs[2] {
		t.Fatalf("events after seq %d = %+v", seqs[1], after)
	}
	limited, err := s.ListRevocationEvents(ctx, 0, at, 2)
	must(t, err)
	if len(limited) != 2 || limited[1].Seq != seqs[1] {
		t.Fatalf("limit 2 = %+v", limited)
	}
	// Events that expired by now are moot and not listed.
	live, err := s.ListRevocationEvents(ctx, 0, at.Add(90*time.Minute), 100)
	must(t, err)
	if got := names(live, func(e storage.RevocationEvent) string { return e.Subject }); !slices.Equal(got, []string{"u_1", "u_2"}) {
		t.Fatalf("live events at +90m = %v", got)
	}

	n, err := s.DeleteExpiredRevocationEvents(ctx, at.Add(150*time.Minute))
	must(t, err)
	if n != 3 {
		t.Fatalf("DeleteExpiredRevocationEvents = %d, want 3", n)
	}
	// Seq never goes back, even after the newest events are deleted.
	n, err = s.DeleteExpiredRevocationEvents(ctx, at.Add(24*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("second cleanup = %d, want 1", n)
	}
	e := &storage.RevocationEvent{Kind: "jti", JTI: "j3", ExpiresAt: at.Add(time.Hour)}
	must(t, s.AppendRevocationEvent(ctx, e))
	if e.Seq <= seqs[3] {
		t.Fatalf("seq %d after cleanup reuses or precedes %d", e.Seq, seqs[3])
	}
}

func testRevocationEventsConcurrent(t *testing.T, s storage.Store) {
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := &storage.RevocationEvent{Kind: "jti", JTI: fmt.Sprintf("w%d-%d", w, i), ExpiresAt: at.Add(time.Hour)}
				if err := s.AppendRevocationEvent(t.Context(), e); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	all, err := s.ListRevocationEvents(t.Context(), 0, at, 1000)
	must(t, err)
	if len(all) != writers*each {
		t.Fatalf("%d events listed, want %d", len(all), writers*each)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("seq %d follows %d", all[i].Seq, all[i-1].Seq)
		}
	}
}

func testAudit(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for i := range 5 {
		r := &storage.AuditRecord{Actor: "cli", Action: "user.create", Target: fmt.Sprintf("u_%d", i),
			After: []byte(fmt.Sprintf(`{"n":%d}`, i)), RequestID: "req"}
		if i == 0 {
			r.At = at
			r.Before = []byte(`{"old":true}`)
		}
		must(t, s.AppendAudit(ctx, r))
		if r.ID == 0 || r.At.IsZero() {
			t.Fatalf("AppendAudit did not fill ID and At: %+v", r)
		}
	}
	is(t, s.AppendAudit(ctx, &storage.AuditRecord{Action: "x"}), storage.ErrInvalid, "audit without actor")
	all, _ := collect(t, 2, func(p storage.Page) ([]storage.AuditRecord, string, error) { return s.ListAudit(ctx, p) })
	if got := names(all, func(r storage.AuditRecord) string { return r.Target }); !slices.Equal(got, []string{"u_4", "u_3", "u_2", "u_1", "u_0"}) {
		t.Fatalf("ListAudit order = %v, want newest first", got)
	}
	first := all[4]
	if !first.At.Equal(at) || string(first.Before) != `{"old":true}` || string(first.After) != `{"n":0}` ||
		first.Actor != "cli" || first.RequestID != "req" {
		t.Fatalf("audit record read back as %+v", first)
	}
	if all[0].Before != nil {
		t.Fatalf("nil Before read back as %q", all[0].Before)
	}
}
