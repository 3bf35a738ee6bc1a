package notify

// RulePE is Peru's general rule for notices deposited in a person's casilla electrónica
// under the Ley del Procedimiento Administrativo General, Texto Único Ordenado approved by
// Decreto Supremo 004-2019-JUS (TUO de la Ley 27444), art. 20.4: a notice is validly made
// when the authority deposits it in the electronic mailbox assigned to the person (who
// must have consented to it, art. 20.4 and Ley 31736), and takes effect on the day it is
// recorded as received (art. 25.2). The notice is therefore served when it is made
// available, opened or not, as in Denmark.
//
// Not confirmed against the official text: the articles were read in secondary sources
// (commentaries on the TUO and on Ley 31736 of 2023, which regulates notification by
// casilla electrónica for every authority under Ley 27444), not in El Peruano. Ley 31736
// and special regimes may set a later date — the tax code, art. 104 b), makes a SUNAT
// notice take effect on the business day after its deposit — so check the law that
// governs the authority's procedure, and give it a Rule of its own when it differs.
var RulePE = Rule{
	ID:       "PE-TUO-LPAG-20.4",
	Country:  "PE",
	Source:   "TUO de la Ley 27444, Ley del Procedimiento Administrativo General (Decreto Supremo 004-2019-JUS), arts. 20.4 and 25.2; Ley 31736 (casilla electrónica)",
	Days:     0,
	Unopened: DeemedServed,
}

func init() { registerRule(&RulePE) }
