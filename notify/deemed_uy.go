package notify

// RuleUY is Uruguay's rule for notices sent to a person's domicilio electrónico (DOMEL)
// under the electronic administrative procedure of Decreto 276/013 (3 September 2013),
// which rests on Ley 18.600 (electronic documents and signatures, 2009) and arts. 694 to
// 696 of Ley 16.736; Ley 19.355 art. 75 lets authorities make the DOMEL compulsory. A
// notice in the DOMEL has full legal effect, and the e-mail or SMS alert is only an alert:
// not receiving it does not excuse the person from reading the DOMEL (AGESIC's guidance on
// Decreto 276/013). Here the notice is served when the person opens it, or deemed served
// at the start of the business day after it was made available, counted in Decreto
// 500/991's business days: pass a calendar with Uruguay's holidays.
//
// Not confirmed: the stored sources (AGESIC's and the ministries' guidance pages) say that
// Decreto 276/013 governs when an electronic notice takes effect, but not the article or
// the number of days; the one business day here was not read in the decree's text. Check
// the decree's chapter on notifications in IMPO before relying on this rule, and change
// Days if it says otherwise.
var RuleUY = Rule{
	ID:            "UY-D276-2013-DOMEL",
	Country:       "UY",
	Source:        "Decreto 276/013 (procedimiento administrativo electrónico), under Ley 18.600 and Ley 16.736 arts. 694-696; Ley 19.355 art. 75 (compulsory domicilio electrónico); day count unconfirmed",
	Days:          1,
	BusinessDays:  true,
	OpeningServes: true,
	Unopened:      DeemedServed,
}

func init() { registerRule(&RuleUY) }
