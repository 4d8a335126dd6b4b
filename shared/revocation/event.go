package revocation

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/portcullis/portcullis/shared/claims"
)

// Kind says what an event revokes.
type Kind string

const (
	// KindJTI revokes one access token, named by its "jti", until it expires.
	KindJTI Kind = "jti"
	// KindSubject refuses every token of a subject (of one client when
	// ClientID is set) issued before NotBefore.
	KindSubject Kind = "sub"
)

// Scope is the OAuth2 scope a client needs to read the feed.
const Scope = "revocations"

// FeedPath is where the auth server serves the feed.
const FeedPath = "/oauth2/revocations"

// Event is one revocation. Expires is the moment the event becomes moot:
// for a jti event the token's exp plus the verifiers' leeway, for a subject
// event NotBefore plus the longest access-token lifetime plus that leeway.
// After it no token the event could refuse is accepted anyway, so sets and
// stores drop it.
type Event struct {
	Seq       int64 // position in the auth server's feed; 0 when unknown
	Kind      Kind
	JTI       string // KindJTI
	Subject   string // KindSubject
	ClientID  string // KindSubject, optional: only this client's tokens
	NotBefore time.Time
	Expires   time.Time
	EmittedAt time.Time // when the auth server emitted it, for lag metrics
}

// Errors returned by Validate.
var (
	ErrUnknownKind = errors.New("unknown revocation event kind")
	ErrIncomplete  = errors.New("incomplete revocation event")
)

// Validate checks that the fields the kind needs are set. An unknown kind is
// ErrUnknownKind so that a consumer can skip events of a newer emitter.
func (e *Event) Validate() error {
	switch e.Kind {
	case KindJTI:
		if e.JTI == "" || e.Expires.IsZero() {
			return fmt.Errorf("%w: kind jti needs jti and exp", ErrIncomplete)
		}
	case KindSubject:
		if e.Subject == "" || e.NotBefore.IsZero() || e.Expires.IsZero() {
			return fmt.Errorf("%w: kind sub needs sub, not_before and exp", ErrIncomplete)
		}
	default:
		return fmt.Errorf("%w %q", ErrUnknownKind, e.Kind)
	}
	return nil
}

// wireEvent is the JSON form. Times are claims.Time NumericDates as in JWT (RFC 7519
// section 2: seconds since the epoch) but carry milliseconds as a fraction,
// because not_before is compared with token issue times and a whole-second
// not_before would either spare tokens issued just before the event or
// refuse tokens issued just after it.
type wireEvent struct {
	Seq       int64       `json:"seq,omitempty"`
	Kind      Kind        `json:"kind"`
	JTI       string      `json:"jti,omitempty"`
	Subject   string      `json:"sub,omitempty"`
	ClientID  string      `json:"client_id,omitempty"`
	NotBefore claims.Time `json:"not_before,omitzero"`
	Expires   claims.Time `json:"exp"`
	EmittedAt claims.Time `json:"emitted_at,omitzero"`
}

// MarshalJSON writes the compact wire form.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireEvent{
		Seq: e.Seq, Kind: e.Kind, JTI: e.JTI, Subject: e.Subject, ClientID: e.ClientID,
		NotBefore: claims.Time{Time: e.NotBefore}, Expires: claims.Time{Time: e.Expires}, EmittedAt: claims.Time{Time: e.EmittedAt},
	})
}

// UnmarshalJSON reads the wire form. It does not validate; call Validate.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode revocation event: %w", err)
	}
	*e = Event{
		Seq: w.Seq, Kind: w.Kind, JTI: w.JTI, Subject: w.Subject, ClientID: w.ClientID,
		NotBefore: w.NotBefore.Time, Expires: w.Expires.Time, EmittedAt: w.EmittedAt.Time,
	}
	return nil
}

// FeedPage is the body of GET /oauth2/revocations. Cursor is opaque: pass it
// back as ?since= to get the events after this page. More is true when the
// page was cut at the server's limit and the next page should be fetched at
// once rather than at the next poll.
type FeedPage struct {
	Events []Event `json:"events"`
	Cursor string  `json:"cursor"`
	More   bool    `json:"more,omitempty"`
}
