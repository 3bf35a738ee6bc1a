package notify

// RuleDK is Denmark's rule for Digital Post from public senders, lov om Digital Post fra
// offentlige afsendere § 10, nr. 1: a message sent through Digital Post is deemed to have
// reached the addressee when it is available to them in the post solution, whether or not
// they open it. Denmark's fallback for people exempted from Digital Post is paper post,
// which the sender chooses before sending, not a deadline: give LegalConfig.LetterAfter a
// period of its own when a letter should follow an unopened notice.
var RuleDK = Rule{
	ID:       "DK-DIGITALPOST-10-1",
	Country:  "DK",
	Source:   "Lov om Digital Post fra offentlige afsendere, § 10, nr. 1",
	Days:     0,
	Unopened: DeemedServed,
}

func init() { registerRule(&RuleDK) }
