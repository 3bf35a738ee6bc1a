package dpitest

import (
	"sync/atomic"
	"time"
)

// Clock is a settable clock, safe for concurrent use, for [PKIOptions.Now] and for the
// validator's clock alike: a test signs at one time, then moves the clock years ahead to
// see certificates expire, time-stamp authorities be replaced, and a long-term signature
// still validate. The PKI's servers read it on every request.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Add moves the clock by d (back when d is negative).
func (c *Clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
