package revocation_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/portcullis/portcullis/shared/revocation"
)

func TestEventWireForm(t *testing.T) {
	cases := []struct {
		name string
		ev   revocation.Event
		want string
	}{
		{
			name: "jti",
			ev: revocation.Event{Seq: 7, Kind: revocation.KindJTI, JTI: "abc",
				Expires: time.Unix(1764331200, 0), EmittedAt: time.UnixMilli(1764331000250)},
			want: `{"seq":7,"kind":"jti","jti":"abc","exp":1764331200,"emitted_at":1764331000.25}`,
		},
		{
			name: "subject of one client",
			ev: revocation.Event{Seq: 8, Kind: revocation.KindSubject, Subject: "u1", ClientID: "web",
				NotBefore: time.UnixMilli(1764331000123), Expires: time.UnixMilli(1764331330123),
				EmittedAt: time.UnixMilli(1764331000123)},
			want: `{"seq":8,"kind":"sub","sub":"u1","client_id":"web","not_before":1764331000.123,"exp":1764331330.123,"emitted_at":1764331000.123}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("wire form\n got %s\nwant %s", b, tc.want)
			}
			var back revocation.Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !back.Expires.Equal(tc.ev.Expires) || !back.NotBefore.Equal(tc.ev.NotBefore) ||
				!back.EmittedAt.Equal(tc.ev.EmittedAt) || back.Seq != tc.ev.Seq || back.JTI != tc.ev.JTI ||
				back.Subject != tc.ev.Subject || back.ClientID != tc.ev.ClientID || back.Kind != tc.ev.Kind {
				t.Fatalf("round trip changed the event: %+v", back)
			}
			if err := back.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestEventDecodeRejectsGarbage(t *testing.T) {
	for _, in := range []string{`{"kind":"jti","exp":"soon"}`, `[1]`, `{"kind":"sub","not_before":true}`} {
		var ev revocation.Event
		if err := json.Unmarshal([]byte(in), &ev); err == nil {
			t.Errorf("%s decoded without error", in)
		}
	}
	var ev revocation.Event
	if err := json.Unmarshal([]byte(`{"kind":"jti","jti":"x"}`), &ev); err != nil {
		t.Fatal(err)
	}
	if err := ev.Validate(); !errors.Is(err, revocation.ErrIncomplete) {
		t.Fatalf("event without exp validated: %v", err)
	}
}

func TestFeedPageWireForm(t *testing.T) {
	p := revocation.FeedPage{Events: []revocation.Event{}, Cursor: "12"}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"events":[],"cursor":"12"}` {
		t.Fatalf("got %s", b)
	}
}

func TestRedisKeyLayout(t *testing.T) {
	exp := time.Unix(1764331200, 0)
	cases := []struct {
		ev   revocation.Event
		want string
	}{
		{revocation.Event{Kind: revocation.KindJTI, JTI: "a1"}, "p:revoked:jti:a1"},
		{revocation.Event{Kind: revocation.KindSubject, Subject: "u1"}, "p:revoked:sub:u1"},
		{revocation.Event{Kind: revocation.KindSubject, Subject: "u1", ClientID: "web"}, "p:revoked:sub:u1:web"},
		// A ':' in a subject cannot collide with the subject-and-client form.
		{revocation.Event{Kind: revocation.KindSubject, Subject: "u1:web"}, "p:revoked:sub:u1%3Aweb"},
	}
	for _, tc := range cases {
		tc.ev.Expires = exp
		if got := revocation.Key("p:", &tc.ev); got != tc.want {
			t.Errorf("Key(%+v) = %q, want %q", tc.ev, got, tc.want)
		}
	}
	if revocation.Channel("p:") != "p:revocations" || revocation.KeyPattern("p:") != "p:revoked:*" {
		t.Fatal("channel or pattern changed")
	}
	ev := revocation.Event{Expires: exp}
	if ttl := revocation.TTL(&ev, exp.Add(-time.Minute)); ttl != time.Minute {
		t.Fatalf("TTL = %v", ttl)
	}
	if ttl := revocation.TTL(&ev, exp.Add(time.Minute)); ttl != time.Millisecond {
		t.Fatalf("TTL of a moot event = %v, want the 1ms floor", ttl)
	}
}
