// Package nationalid validates, normalises and formats the national identity and tax
// numbers of Latin America and the Caribbean: Brazil's CPF and CNPJ (including the
// alphanumeric CNPJ issued from July 2026), Chile's RUT, Argentina's DNI and CUIT/CUIL,
// Mexico's CURP and RFC, and the cédulas, RUCs and NITs of the rest of the region.
//
// # Use
//
// Look a scheme up by ISO 3166-1 alpha-2 country code and name, then validate:
//
//	s, err := nationalid.Lookup("BR", "cpf")
//	if err != nil { ... }                       // errors.Is(err, nationalid.ErrUnknownScheme)
//	if err := s.Validate(input); err != nil { ... } // errors.Is(err, nationalid.ErrCheckDigit), ...
//	stored := s.Compact(input)                  // "39053344705"
//	shown, _ := s.Format(input)                 // "390.533.447-05"
//
// Scheme names are python-stdnum's module names wherever that library has the scheme
// ("BR cpf", "CL rut", "PE cui" for the Peruvian DNI, "CR cpf" for the Costa Rican cédula
// física, "CR cr" for the DIMEX), so people who know it find their way. [Schemes] lists
// them all, each with a description and a link to the issuing authority.
//
// # What Validate checks
//
// [Scheme.Validate] removes white space and the separators usual for the scheme, upper-cases
// letters, and checks the length, the characters, the components that can be checked (a
// birth date, a state, province or type code) and the check digits, in the way each
// authority defines them. Every rejection is an [*InvalidError] whose Reason is one of
// [ErrLength], [ErrFormat], [ErrCheckDigit] or [ErrComponent]; its message names the scheme
// and the failed check, never the number, which is personal data.
//
// Validate never allocates, on valid or invalid input: the compacted number lives on the
// stack and the errors are preallocated, one per scheme and reason. Inputs are capped at
// [limits.MaxNationalIDCompact] bytes once compacted.
//
// Several schemes have no check digit (Argentina's DNI, Colombia's cédula, Costa Rica's
// cédulas and DIMEX, Bolivia's CI and NIT, Panama's cédula, Cuba's NI); for those Validate
// checks the format and components only, the Description says so and HasCheckDigit is
// false. Mexico's RFC has a check digit that Validate does not enforce, because numbers
// with a wrong one are in use.
//
// # Correctness
//
// The tests check every scheme that python-stdnum also implements against Debian's
// python3-stdnum on tens of thousands of generated valid numbers and their mutations. The
// deliberate differences are listed in the test: the alphanumeric CNPJ and the CURP with
// the non-binary sex marker X, which python-stdnum 1.18 predates; Costa Rican cédulas with
// province 0 or a zero volume or entry, and the all-zero Paraguayan RUC, which
// python-stdnum accepts and no authority issues. The known-valid and known-invalid numbers,
// with where each comes from, are in testdata/vectors.json for other implementations to
// run. Unlike
// python-stdnum, Compact does not map Unicode look-alikes (full-width digits, en dashes) to
// ASCII; they make a number invalid.
//
// # Adding a country
//
// Each country lives in one file (br.go, cl.go, ...) whose init function registers its
// schemes with a compaction rule, a check function and a format function. A fork adds a
// country by adding a file, without touching the others.
//
// # What it does not do
//
// It says whether a number is well formed, not whether it was issued, is active or
// belongs to the person presenting it: that needs the authority's registry. It does not
// derive personal data (birth date, sex) from a number.
package nationalid
