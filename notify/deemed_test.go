package notify_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dpiblocks/dpi/notify"
)

// cet is Central European Time without summer time, so the tables read the same all year.
var cet = time.FixedZone("CET", 3600)

func calendar(t testing.TB, loc *time.Location, holidays ...string) *notify.Calendar {
	t.Helper()
	c, err := notify.NewCalendar(notify.CalendarConfig{Location: loc, Holidays: holidays})
	require.NoError(t, err)
	return c
}

func at(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

func TestRuleDue(t *testing.T) {
	brt := time.FixedZone("BRT", -3*3600)
	clt := time.FixedZone("CLT", -4*3600)
	pet := time.FixedZone("PET", -5*3600)
	uyt := time.FixedZone("UYT", -3*3600)
	tests := []struct {
		name     string
		rule     notify.Rule
		cal      *notify.Calendar
		made     time.Time
		want     time.Time
		business bool
	}{
		// ES: made available on Monday 2 March 2026 at 10:00; ten calendar days from the 3rd
		// end with the 12th; rejected from the start of the 13th.
		{"ES ten calendar days", notify.RuleES, calendar(t, cet), at(cet, 2026, 3, 2, 10, 0), at(cet, 2026, 3, 13, 0, 0), false},
		// Weekends and holidays count alike in calendar days.
		{"ES over a holiday", notify.RuleES, calendar(t, cet, "2026-03-05"), at(cet, 2026, 3, 2, 23, 59), at(cet, 2026, 3, 13, 0, 0), false},
		// Made available at 23:30 UTC on the 2nd is already the 3rd in Madrid.
		{"ES the day is Madrid's", notify.RuleES, calendar(t, cet), time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC), at(cet, 2026, 3, 14, 0, 0), false},
		// BR: delivered on 2 March; the fifteenth day counted from the 3rd is the 17th.
		{"BR fifteen days", notify.RuleBR, calendar(t, brt), at(brt, 2026, 3, 2, 9, 0), at(brt, 2026, 3, 17, 0, 0), false},
		// CL: sent on Thursday 30 April 2026; Friday 1 May is a holiday, then the weekend:
		// Monday 4, Tuesday 5, Wednesday 6 are the three business days.
		{"CL third business day over a holiday and a weekend", notify.RuleCL, calendar(t, clt, "2026-05-01"), at(clt, 2026, 4, 30, 15, 0), at(clt, 2026, 5, 6, 0, 0), true},
		// CL: sent on a Saturday: Monday, Tuesday, Wednesday.
		{"CL sent on a Saturday", notify.RuleCL, calendar(t, clt), at(clt, 2026, 5, 9, 8, 0), at(clt, 2026, 5, 13, 0, 0), true},
		// PE: served when deposited in the casilla electrónica.
		{"PE when deposited", notify.RulePE, calendar(t, pet), at(pet, 2026, 3, 2, 10, 0), at(pet, 2026, 3, 2, 10, 0), false},
		// UY: made available on Thursday 30 April 2026; Friday 1 May is a holiday, then the
		// weekend: Monday 4 May is the next business day.
		{"UY next business day over a holiday and a weekend", notify.RuleUY, calendar(t, uyt, "2026-05-01"), at(uyt, 2026, 4, 30, 15, 0), at(uyt, 2026, 5, 4, 0, 0), true},
		// Made available at 02:00 UTC on Tuesday 3 March is still Monday in Montevideo.
		{"UY the day is Montevideo's", notify.RuleUY, calendar(t, uyt), time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC), at(uyt, 2026, 3, 3, 0, 0), true},
		// DK: served when available.
		{"DK when available", notify.RuleDK, calendar(t, cet), at(cet, 2026, 3, 2, 10, 0), at(cet, 2026, 3, 2, 10, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.rule.Due(tt.cal, tt.made)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "due %v, want %v", got, tt.want)
			assert.Equal(t, tt.business, tt.rule.BusinessDays)
		})
	}
}

func TestRuleDecide(t *testing.T) {
	cal := calendar(t, cet)
	made := at(cet, 2026, 3, 2, 10, 0)
	due := at(cet, 2026, 3, 13, 0, 0)
	tests := []struct {
		name   string
		rule   notify.Rule
		opened time.Time
		now    time.Time
		want   notify.Decision
	}{
		{"ES waiting", notify.RuleES, time.Time{}, at(cet, 2026, 3, 12, 23, 59), notify.Decision{Status: notify.MadeAvailable, At: due}},
		{"ES rejected at the due time", notify.RuleES, time.Time{}, due, notify.Decision{Status: notify.DeemedRejected, At: due}},
		{"ES opened in time is served at opening", notify.RuleES, at(cet, 2026, 3, 5, 8, 0), at(cet, 2026, 4, 1, 0, 0), notify.Decision{Status: notify.Opened, At: at(cet, 2026, 3, 5, 8, 0)}},
		{"ES opened after rejection stays rejected", notify.RuleES, at(cet, 2026, 3, 20, 8, 0), at(cet, 2026, 4, 1, 0, 0), notify.Decision{Status: notify.DeemedRejected, At: due}},
		{"ES opening not yet happened by now", notify.RuleES, at(cet, 2026, 3, 5, 8, 0), at(cet, 2026, 3, 4, 0, 0), notify.Decision{Status: notify.MadeAvailable, At: due}},
		{"BR served at consultation", notify.RuleBR, at(cet, 2026, 3, 3, 8, 0), at(cet, 2026, 3, 3, 9, 0), notify.Decision{Status: notify.Opened, At: at(cet, 2026, 3, 3, 8, 0)}},
		{"BR deemed served unopened", notify.RuleBR, time.Time{}, at(cet, 2026, 3, 17, 0, 0), notify.Decision{Status: notify.DeemedServed, At: at(cet, 2026, 3, 17, 0, 0)}},
		{"PE served on deposit, opened or not", notify.RulePE, at(cet, 2026, 3, 3, 8, 0), at(cet, 2026, 3, 3, 9, 0), notify.Decision{Status: notify.DeemedServed, At: made}},
		{"UY opened the same day is served at opening", notify.RuleUY, at(cet, 2026, 3, 2, 18, 0), at(cet, 2026, 3, 2, 19, 0), notify.Decision{Status: notify.Opened, At: at(cet, 2026, 3, 2, 18, 0)}},
		{"UY waiting", notify.RuleUY, time.Time{}, at(cet, 2026, 3, 2, 23, 0), notify.Decision{Status: notify.MadeAvailable, At: at(cet, 2026, 3, 3, 0, 0)}},
		{"UY deemed served the next business day", notify.RuleUY, time.Time{}, at(cet, 2026, 3, 3, 0, 0), notify.Decision{Status: notify.DeemedServed, At: at(cet, 2026, 3, 3, 0, 0)}},
		{"DK served on availability, opened or not", notify.RuleDK, at(cet, 2026, 3, 3, 8, 0), at(cet, 2026, 3, 3, 9, 0), notify.Decision{Status: notify.DeemedServed, At: made}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.rule.Decide(cal, made, tt.opened, tt.now)
			require.NoError(t, err)
			assert.Equal(t, tt.want.Status, got.Status)
			assert.True(t, tt.want.At.Equal(got.At), "at %v, want %v", got.At, tt.want.At)
			assert.Equal(t, tt.want.Status != notify.MadeAvailable, got.Final())
		})
	}
}

func TestRuleCL_Opening(t *testing.T) {
	clt := time.FixedZone("CLT", -4*3600)
	cal := calendar(t, clt)
	made := at(clt, 2026, 7, 6, 9, 0) // a Monday
	d, err := notify.RuleCL.Decide(cal, made, at(clt, 2026, 7, 6, 10, 0), at(clt, 2026, 7, 9, 0, 0))
	require.NoError(t, err)
	// Opening does not serve a DDU notice earlier: it is served on the third business day.
	assert.Equal(t, notify.DeemedServed, d.Status)
	assert.True(t, at(clt, 2026, 7, 9, 0, 0).Equal(d.At))
}

func TestRulesAreCited(t *testing.T) {
	rules := notify.Rules()
	for _, c := range []string{"ES", "BR", "CL", "DK", "PE", "UY"} {
		assert.Contains(t, rules, c, "the built-in rules")
	}
	cal := calendar(t, time.UTC)
	for c, r := range rules {
		assert.Equal(t, c, r.Country)
		assert.NotEmpty(t, r.ID)
		assert.NotEmpty(t, r.Source, "%s cites no source", c)
		_, err := r.Due(cal, time.Now())
		assert.NoError(t, err, c)
	}
	// Rules returns copies: changing one changes nothing here.
	rules["ES"].Days = 99
	assert.Equal(t, 10, notify.Rules()["ES"].Days)
}

func TestCalendarAndRuleRefused(t *testing.T) {
	for name, cfg := range map[string]notify.CalendarConfig{
		"no location":     {},
		"bad holiday":     {Location: time.UTC, Holidays: []string{"1 May"}},
		"no business day": {Location: time.UTC, Weekend: []time.Weekday{0, 1, 2, 3, 4, 5, 6}},
		"bad weekday":     {Location: time.UTC, Weekend: []time.Weekday{9}},
	} {
		_, err := notify.NewCalendar(cfg)
		assert.ErrorIs(t, err, notify.ErrConfig, name)
	}
	cal := calendar(t, time.UTC)
	for name, r := range map[string]notify.Rule{
		"no ID":             {Days: 1, Unopened: notify.DeemedServed},
		"negative days":     {ID: "x", Days: -1, Unopened: notify.DeemedServed},
		"too many days":     {ID: "x", Days: 100000, Unopened: notify.DeemedServed},
		"unopened is what?": {ID: "x", Days: 1, Unopened: notify.Opened},
		"zero days reject":  {ID: "x", Days: 0, Unopened: notify.DeemedRejected},
	} {
		_, err := r.Due(cal, time.Now())
		assert.ErrorIs(t, err, notify.ErrConfig, name)
	}
	_, err := notify.RuleES.Due(nil, time.Now())
	assert.ErrorIs(t, err, notify.ErrConfig)
}

func TestCalendarBusinessDay(t *testing.T) {
	cal := calendar(t, cet, "2026-12-25")
	assert.True(t, cal.BusinessDay(at(cet, 2026, 12, 24, 12, 0)))
	assert.False(t, cal.BusinessDay(at(cet, 2026, 12, 25, 12, 0)), "a holiday")
	assert.False(t, cal.BusinessDay(at(cet, 2026, 12, 26, 12, 0)), "a Saturday")
	// 23:30 UTC on Thursday the 24th is already the holiday in CET.
	assert.False(t, cal.BusinessDay(time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC)))
	assert.Equal(t, cet, cal.Location())
}
