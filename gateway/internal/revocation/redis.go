package revocation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"

	"github.com/portcullis/portcullis/shared/revocation"
)

// redisSource follows the auth server through Redis: subscribe to the
// channel, load every live key, apply what the subscription delivered
// meanwhile, then apply each message as it arrives. Subscribing before
// loading is what makes the pair gap-free: an event is either written
// before the SCAN sees its key or published after the subscription exists
// (the auth server writes and publishes in one script), and applying an
// event twice is harmless.
type redisSource struct {
	r      *Revocations
	client *redis.Client
}

func newRedisSource(r *Revocations, opts *redis.Options) *redisSource {
	// One retry at most per command: the source has its own reconnect loop
	// and must notice a dead server quickly rather than retry for long.
	opts.MaxRetries = 1
	return &redisSource{r: r, client: redis.NewClient(opts)}
}

func (s *redisSource) name() string { return "redis" }

func (s *redisSource) run(ctx context.Context) {
	defer func() { _ = s.client.Close() }()
	b := backoff{min: s.r.cfg.MinBackoff, max: s.r.cfg.MaxBackoff}
	for ctx.Err() == nil {
		synced, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("subscription closed")
		}
		s.r.markLost(err)
		if synced {
			b.reset()
		}
		if !sleep(ctx, b.next()) {
			return
		}
	}
}

// session runs one connection's life: it returns when the subscription or
// a load fails; synced says whether it got as far as a full load.
func (s *redisSource) session(ctx context.Context) (synced bool, err error) {
	prefix := s.r.cfg.Prefix
	ps := s.client.Subscribe(ctx, revocation.Channel(prefix))
	defer func() { _ = ps.Close() }()
	// A blocked receive does not watch ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	if _, err := ps.ReceiveTimeout(ctx, s.r.cfg.PingEvery); err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	events, err := s.load(ctx)
	if err != nil {
		return false, err
	}
	s.r.apply(events, false)
	s.r.markSynced()

	awaitingPong := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.r.cfg.PingEvery)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !awaitingPong && ctx.Err() == nil {
				// Idle: a ping tells a quiet channel from a dead peer
				// that never sent a FIN.
				if err := ps.Ping(ctx); err != nil {
					return true, fmt.Errorf("ping: %w", err)
				}
				awaitingPong = true
				continue
			}
			return true, fmt.Errorf("receive: %w", err)
		}
		awaitingPong = false
		switch m := msg.(type) {
		case *redis.Message:
			var ev revocation.Event
			if err := json.Unmarshal([]byte(m.Payload), &ev); err != nil {
				s.r.log.Warn("undecodable revocation message ignored", "err", err)
				continue
			}
			s.r.apply([]revocation.Event{ev}, true)
			s.r.markSynced()
		case *redis.Pong:
			s.r.markSynced()
		}
	}
}

// load reads every live key under the prefix.
func (s *redisSource) load(ctx context.Context) ([]revocation.Event, error) {
	var (
		out    []revocation.Event
		cursor uint64
	)
	pattern := revocation.KeyPattern(s.r.cfg.Prefix)
	for {
		keys, next, err := s.client.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("scan revocation keys: %w", err)
		}
		if len(keys) > 0 {
			vals, err := s.client.MGet(ctx, keys...).Result()
			if err != nil {
				return nil, fmt.Errorf("read revocation keys: %w", err)
			}
			for i, v := range vals {
				str, ok := v.(string)
				if !ok {
					continue // expired between SCAN and MGET
				}
				var ev revocation.Event
				if err := json.Unmarshal([]byte(str), &ev); err != nil {
					s.r.log.Warn("undecodable revocation key ignored", "key", keys[i], "err", err)
					continue
				}
				out = append(out, ev)
			}
		}
		if cursor = next; cursor == 0 {
			return out, nil
		}
	}
}
