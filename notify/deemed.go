package notify

import (
	"fmt"
	"slices"
	"time"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Rule is a country's rule for when a legal notice made available in a person's digital
// mailbox takes effect: served when the person opens it, or deemed served or rejected
// once a number of days has passed. A rule is data: each country's lives in a file of its
// own (deemed_es.go, deemed_br.go, ...), cites its legal source, and a fork adds another
// the same way. The days are counted on a Calendar the caller passes in, with the
// country's time zone and holidays.
type Rule struct {
	// ID names the rule in evidence and proofs, such as "ES-LPAC-43.2".
	ID string
	// Country is the ISO 3166-1 alpha-2 code of the country whose law the rule follows.
	Country string
	// Source cites the law: the act, its article and paragraph.
	Source string
	// Days is how many days after the day the notice was made available the rule waits.
	// Counting starts on the next day, as every rule here counts (the day of the event is
	// not one of the days). Zero deems the notice served when it is made available.
	Days int
	// BusinessDays counts only the calendar's business days; otherwise every day counts.
	BusinessDays bool
	// AfterLastDay deems the notice at the end of the last day, when the days "have
	// passed" (Spain); otherwise it is deemed on the last day, from its start (Brazil).
	AfterLastDay bool
	// OpeningServes makes opening the notice before it is deemed serve it at that moment.
	// Without it, opening changes nothing: the notice is deemed served when the days end.
	OpeningServes bool
	// Unopened is what a notice not opened in time becomes: DeemedServed or DeemedRejected.
	Unopened Status
}

// check refuses a rule that says nothing coherent.
func (r *Rule) check() error {
	switch {
	case r == nil:
		return fmt.Errorf("%w: no rule", ErrConfig)
	case r.ID == "" || len(r.ID) > limits.MaxNotifyReference || checkText("rule", r.ID, limits.MaxNotifyReference) != nil:
		return fmt.Errorf("%w: a rule needs an ID of at most %d bytes", ErrConfig, limits.MaxNotifyReference)
	case r.Days < 0 || r.Days > limits.MaxNotifyDeemDays:
		return fmt.Errorf("%w: rule %s: 0 to %d days", ErrConfig, r.ID, limits.MaxNotifyDeemDays)
	case r.Unopened != DeemedServed && r.Unopened != DeemedRejected:
		return fmt.Errorf("%w: rule %s: an unopened notice is deemed served or rejected", ErrConfig, r.ID)
	case r.Days == 0 && (r.Unopened != DeemedServed || r.AfterLastDay || r.BusinessDays):
		return fmt.Errorf("%w: rule %s: a rule of zero days serves the notice when it is made available", ErrConfig, r.ID)
	}
	return nil
}

// Rules returns the rules this package knows, one per country, by country code.
func Rules() map[string]*Rule {
	out := make(map[string]*Rule, len(rules))
	for _, r := range rules {
		c := *r
		out[r.Country] = &c
	}
	return out
}

// rules are the rules of the deemed_*.go files, one per country, each registered by its
// file's init: a fork adds its country's rule in one file.
var rules = map[string]*Rule{}

// registerRule adds a country's rule; a malformed or repeated rule is a bug in the country
// file, found when the program starts.
func registerRule(r *Rule) {
	if err := r.check(); err != nil || len(r.Country) != 2 || r.Source == "" {
		panic(fmt.Sprintf("notify: malformed deemed rule %s", r.ID))
	}
	if _, dup := rules[r.Country]; dup {
		panic("notify: a second deemed rule for " + r.Country)
	}
	rules[r.Country] = r
}

// CalendarConfig configures a Calendar. Location is required.
type CalendarConfig struct {
	// Location is the time zone days begin and end in: the country's (or the authority's).
	Location *time.Location
	// Holidays are the days that are not business days besides the weekend, as
	// "YYYY-MM-DD". Pass the official calendar for every year the notices may span.
	Holidays []string
	// Weekend are the days of the week that are not business days; nil means Saturday and
	// Sunday.
	Weekend []time.Weekday
}

// Calendar tells business days from others in one time zone. It is immutable and safe
// for concurrent use.
type Calendar struct {
	loc      *time.Location
	weekend  [7]bool
	holidays map[civilDate]bool
}

// civilDate is a day on the calendar, without a time zone.
type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// NewCalendar returns a calendar.
func NewCalendar(cfg CalendarConfig) (*Calendar, error) {
	if cfg.Location == nil {
		return nil, fmt.Errorf("%w: a calendar needs a time zone", ErrConfig)
	}
	if len(cfg.Holidays) > limits.MaxNotifyHolidays {
		return nil, fmt.Errorf("%w: more than %d holidays", ErrConfig, limits.MaxNotifyHolidays)
	}
	c := &Calendar{loc: cfg.Location, holidays: make(map[civilDate]bool, len(cfg.Holidays))}
	weekend := cfg.Weekend
	if weekend == nil {
		weekend = []time.Weekday{time.Saturday, time.Sunday}
	}
	for _, d := range weekend {
		if d < time.Sunday || d > time.Saturday {
			return nil, fmt.Errorf("%w: weekday %d out of range", ErrConfig, int(d))
		}
		c.weekend[d] = true
	}
	if !slices.Contains(c.weekend[:], false) {
		return nil, fmt.Errorf("%w: a calendar needs a business day in its week", ErrConfig)
	}
	for _, h := range cfg.Holidays {
		t, err := time.Parse(time.DateOnly, h)
		if err != nil {
			return nil, fmt.Errorf("%w: holiday %q is not YYYY-MM-DD", ErrConfig, h)
		}
		c.holidays[dateOf(t)] = true
	}
	return c, nil
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// BusinessDay reports whether the day t falls on, in the calendar's time zone, is a
// business day.
func (c *Calendar) BusinessDay(t time.Time) bool {
	t = t.In(c.loc)
	return !c.weekend[t.Weekday()] && !c.holidays[dateOf(t)]
}

// startOfDay returns midnight of the given day in loc (or the first instant of the day,
// where a time zone skips midnight).
func startOfDay(d civilDate, loc *time.Location) time.Time {
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, loc)
}

// Due returns when a notice made available at madeAvailable is deemed served or rejected
// by r if nobody opens it, counting days on cal.
func (r *Rule) Due(cal *Calendar, madeAvailable time.Time) (time.Time, error) {
	if err := r.check(); err != nil {
		return time.Time{}, err
	}
	if cal == nil {
		return time.Time{}, fmt.Errorf("%w: no calendar", ErrConfig)
	}
	if r.Days == 0 {
		return madeAvailable, nil
	}
	day := dateOf(madeAvailable.In(cal.loc))
	// Day by day, on the calendar's dates: adding 24 hours would go wrong across a change
	// of summer time.
	next := func(d civilDate) civilDate { return dateOf(startOfDay(d, time.UTC).AddDate(0, 0, 1)) }
	counted := 0
	for range limits.MaxNotifyDeemDays * 8 {
		day = next(day)
		if r.BusinessDays && !cal.BusinessDay(startOfDay(day, cal.loc).Add(12*time.Hour)) {
			continue
		}
		counted++
		if counted == r.Days {
			if r.AfterLastDay {
				day = next(day)
			}
			return startOfDay(day, cal.loc), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: rule %s: the calendar has too few business days", ErrConfig, r.ID)
}

// Decision is what a rule makes of a notice at a given time.
type Decision struct {
	// Status is Opened when the person opened the notice and that served it; DeemedServed
	// or DeemedRejected once the rule deems it so; MadeAvailable while it waits.
	Status Status
	// At is when the notice was served (opened) or deemed served or rejected; while it
	// waits, when it will be deemed unless opened first.
	At time.Time
}

// Final reports whether the decision will not change.
func (d Decision) Final() bool { return d.Status != MadeAvailable }

// Decide says where a notice made available at madeAvailable, and opened at opened (zero
// when it was not), stands at now under r, counting days on cal. A decision is a value:
// the error reports only a rule or calendar that cannot decide.
func (r *Rule) Decide(cal *Calendar, madeAvailable, opened, now time.Time) (Decision, error) {
	due, err := r.Due(cal, madeAvailable)
	if err != nil {
		return Decision{}, err
	}
	if r.OpeningServes && !opened.IsZero() && opened.Before(due) && !opened.After(now) {
		return Decision{Status: Opened, At: opened}, nil
	}
	if !now.Before(due) {
		status := r.Unopened
		if !opened.IsZero() && opened.Before(due) {
			// Opened in time under a rule where opening does not serve: served all the same.
			status = DeemedServed
		}
		return Decision{Status: status, At: due}, nil
	}
	return Decision{Status: MadeAvailable, At: due}, nil
}
