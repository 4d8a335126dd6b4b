package revocation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/portcullis/portcullis/shared/revocation"
)

// maxFeedBody bounds one feed response (a page is at most a few hundred
// small events).
const maxFeedBody = 8 << 20

// feedSource polls the auth server's feed. Every poll asks for the events
// after the last cursor; every ResyncEvery (and at start) it asks from the
// beginning instead, which re-reads the whole live set and recovers from a
// feed whose cursor went backwards (a restored database).
type feedSource struct {
	r      *Revocations
	client *http.Client
}

func newFeedSource(r *Revocations, hc *http.Client) *feedSource { return &feedSource{r: r, client: hc} }

func (s *feedSource) name() string { return "feed" }

func (s *feedSource) run(ctx context.Context) {
	var (
		cursor   string
		lastFull time.Time
		b        = backoff{min: s.r.cfg.MinBackoff, max: s.r.cfg.Interval}
	)
	for ctx.Err() == nil {
		full := cursor == "" || s.r.now().Sub(lastFull) >= s.r.cfg.ResyncEvery
		from := cursor
		if full {
			from = ""
		}
		next, err := s.poll(ctx, from, !full)
		if ctx.Err() != nil {
			return
		}
		wait := s.r.cfg.Interval
		if err != nil {
			s.r.markLost(err)
			wait = b.next() // retry a failed poll sooner than the interval
		} else {
			b.reset()
			cursor = next
			if full {
				lastFull = s.r.now()
			}
			s.r.markSynced()
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// poll fetches pages from cursor until the feed has no more, applies them
// and returns the new cursor.
func (s *feedSource) poll(ctx context.Context, cursor string, live bool) (string, error) {
	for {
		page, err := s.fetch(ctx, cursor)
		if err != nil {
			return "", err
		}
		s.r.apply(page.Events, live)
		cursor = page.Cursor
		if !page.More || len(page.Events) == 0 {
			return cursor, nil
		}
	}
}

func (s *feedSource) fetch(ctx context.Context, cursor string) (*revocation.FeedPage, error) {
	u, err := url.Parse(s.r.cfg.Feed)
	if err != nil {
		return nil, fmt.Errorf("feed URL: %w", err)
	}
	q := u.Query()
	q.Set("since", cursor)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("feed request: %w", err)
	}
	req.SetBasicAuth(url.QueryEscape(s.r.cfg.ClientID), url.QueryEscape(s.r.cfg.ClientSecret))
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("poll revocation feed: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body := io.LimitReader(resp.Body, maxFeedBody)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(body).Decode(&e)
		return nil, fmt.Errorf("poll revocation feed: HTTP %d %s %s", resp.StatusCode, e.Error, e.Description)
	}
	var page revocation.FeedPage
	if err := json.NewDecoder(body).Decode(&page); err != nil {
		return nil, fmt.Errorf("poll revocation feed: decode: %w", err)
	}
	if page.Cursor == "" {
		page.Cursor = cursor
	}
	return &page, nil
}
