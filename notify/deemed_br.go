package notify

// RuleBR is Brazil's rule for the federal tax administration's electronic mailbox (the
// Domicílio Tributário Eletrônico, DTE), Decreto 70.235/1972 art. 23 §2 III, as Lei
// 12.844/2013 wrote it: the notice ("intimação") is deemed made (a) fifteen days after the
// date recorded as its delivery to the taxpayer's electronic tax domicile, or (b) on the
// date the taxpayer consults it, when that is earlier. Days are calendar days, counted
// from the day after delivery (art. 5: the first day is left out, the last one counts);
// the notice is deemed made on the fifteenth day.
var RuleBR = Rule{
	ID:            "BR-D70235-23-2-III",
	Country:       "BR",
	Source:        "Decreto nº 70.235, de 6 de março de 1972, art. 23, § 2º, III, alíneas a e b (redação da Lei nº 12.844/2013); art. 5º",
	Days:          15,
	OpeningServes: true,
	Unopened:      DeemedServed,
}

func init() { registerRule(&RuleBR) }
