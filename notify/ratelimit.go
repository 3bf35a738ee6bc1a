package notify

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dpiblocks/dpi/internal/limits"
)

// RateLimit caps how fast a dispatcher hands notifications to one channel (an SMS
// gateway's contract, an SMTP relay's limit, a receiver's capacity): a token bucket that
// refills PerSecond tokens a second up to Burst, one token per attempt.
//
// The bucket is the dispatcher's, shared by its workers: it holds for one process. Several
// service instances on one PostgreSQL database each keep their own, so the channel sees up
// to the sum of their rates; give each instance its share (PerSecond divided by the number
// of instances).
type RateLimit struct {
	// PerSecond is the sustained rate, in attempts per second: more than zero.
	PerSecond float64
	// Burst is how many attempts may go at once after a quiet period; zero means 1.
	Burst int
}

// limiter is the token buckets of one dispatcher's rate-limited channels. The buckets
// are golang.org/x/time/rate's, driven by the dispatcher's clock.
type limiter struct {
	now     func() time.Time
	buckets map[string]*rate.Limiter
	// mu makes "which channels have a token", the claim and the taking of the token one
	// step, so that a worker never claims a notification it then has no token for.
	mu sync.Mutex
}

func newLimiter(o *Outbox, cfg map[string]RateLimit, now func() time.Time) (*limiter, error) {
	if len(cfg) == 0 {
		return nil, nil
	}
	l := &limiter{now: now, buckets: map[string]*rate.Limiter{}}
	for name, rl := range cfg {
		if o.channels[name] == nil {
			return nil, fmt.Errorf("%w: a rate limit for %q, which is not a channel of the outbox", ErrConfig, name)
		}
		burst := rl.Burst
		if burst == 0 {
			burst = 1
		}
		if !(rl.PerSecond > 0) || math.IsInf(rl.PerSecond, 0) || rl.PerSecond > limits.MaxNotifyRate || burst < 0 || burst > limits.MaxNotifyRateBurst {
			return nil, fmt.Errorf("%w: rate limit of %q: 0 < PerSecond <= %d and 0 <= Burst <= %d", ErrConfig, name, limits.MaxNotifyRate, limits.MaxNotifyRateBurst)
		}
		l.buckets[name] = rate.NewLimiter(rate.Limit(rl.PerSecond), burst)
	}
	return l, nil
}

// quota is how many notifications one claim may take of some channels.
type quota struct {
	names []string
	n     int
}

// quotas splits a claim of up to max notifications of the channels names: the channels
// without a limit share one quota of max, and each channel with a limit gets the whole
// tokens its bucket holds. A channel whose bucket is empty gets none.
func (l *limiter) quotas(names []string, max int) []quota {
	if l == nil {
		return []quota{{names: names, n: max}}
	}
	now := l.now()
	free := quota{n: max}
	var out []quota
	for _, n := range names {
		b := l.buckets[n]
		if b == nil {
			free.names = append(free.names, n)
			continue
		}
		if t := int(b.TokensAt(now)); t >= 1 {
			out = append(out, quota{names: []string{n}, n: min(t, max)})
		}
	}
	if len(free.names) > 0 {
		out = append([]quota{free}, out...)
	}
	return out
}

// take takes a token for channel, which ready said has one.
func (l *limiter) take(channel string) {
	if l == nil {
		return
	}
	if b := l.buckets[channel]; b != nil {
		b.AllowN(l.now(), 1)
	}
}

// wait is how long until the emptiest bucket holds a token again, zero when every bucket
// holds one: an idle worker looks again no later than that.
func (l *limiter) wait() time.Duration {
	if l == nil {
		return 0
	}
	now := l.now()
	var w time.Duration
	for _, b := range l.buckets {
		if t := b.TokensAt(now); t < 1 {
			d := time.Duration((1 - t) / float64(b.Limit()) * float64(time.Second))
			if w == 0 || d < w {
				w = d
			}
		}
	}
	if w == 0 {
		return 0
	}
	return max(w, time.Millisecond)
}
