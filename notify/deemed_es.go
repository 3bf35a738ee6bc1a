package notify

// RuleES is Spain's rule for electronic notices of the public administrations, Ley 39/2015
// del Procedimiento Administrativo Común, art. 43.2: an electronic notice is served when
// its content is accessed, and, where electronic notification is compulsory or was
// chosen, it is deemed rejected once ten calendar days ("diez días naturales") have passed
// since it was made available without access. Days are counted from the day after it was
// made available (art. 30.3 counts from the day after the event); the rejection takes
// effect when the tenth day ends. A rejection ends the step and the procedure goes on
// (art. 41.5).
var RuleES = Rule{
	ID:            "ES-LPAC-43.2",
	Country:       "ES",
	Source:        "Ley 39/2015, de 1 de octubre, del Procedimiento Administrativo Común de las Administraciones Públicas, art. 43.2 (and art. 41.5)",
	Days:          10,
	AfterLastDay:  true,
	OpeningServes: true,
	Unopened:      DeemedRejected,
}

func init() { registerRule(&RuleES) }
