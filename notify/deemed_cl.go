package notify

// RuleCL is Chile's rule for notices sent to a person's single digital domicile
// (domicilio digital único, DDU) under Ley 19.880 on administrative procedure, which Ley
// 21.180 (Transformación Digital del Estado, 2019) made electronic by default and Ley
// 21.806 (promulgated on 5 February 2026, in force from 1 July 2026) amended: a notice
// sent to the DDU has full legal effect and is deemed served on the third business day
// after it was sent. Business days under Ley 19.880 art. 25 are Monday to Friday except
// public holidays: pass a calendar with Chile's holidays. Opening the notice earlier does
// not change the date.
//
// The number of days and the amending law were read in a law firm's summary of Ley
// 21.806, not in the Diario Oficial; check the consolidated text of Ley 19.880 before
// relying on this rule.
var RuleCL = Rule{
	ID:           "CL-L19880-DDU",
	Country:      "CL",
	Source:       "Ley 19.880 (Bases de los Procedimientos Administrativos), as amended by Ley 21.180 and Ley 21.806 (domicilio digital único); art. 25 for business days",
	Days:         3,
	BusinessDays: true,
	Unopened:     DeemedServed,
}

func init() { registerRule(&RuleCL) }
