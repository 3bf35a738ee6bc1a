// Package dpi is a set of digital public infrastructure building blocks for government
// services, as an embeddable Go module and a digital public good. An agency, a GovTech
// startup or a country's fork imports only the block it needs into its own service.
//
// # The blocks
//
// Each block is a package that stands alone; no block imports another. Together they carry
// a person through a whole public service, with evidence at every step:
//
//   - [github.com/dpiblocks/dpi/identity]: who is this person, and how sure are we. Verifies
//     OpenID Connect ID tokens from national eID providers (gov.br, ClaveÚnica, ID Uruguay,
//     Mi Argentina, MOSIP eSignet, TARA) with levels of assurance mapped to eIDAS and
//     NIST 800-63, and runs relying-party login (code flow, PKCE, private_key_jwt).
//   - [github.com/dpiblocks/dpi/identity/nationalid]: national identity and tax numbers of
//     Latin America and the Caribbean (CPF, CNPJ, RUT, CUIT, CURP, NIT, cédula, …):
//     validate, normalise, format, with no heap allocation.
//   - [github.com/dpiblocks/dpi/signature]: sign and validate documents as CAdES (CMS) and
//     JAdES (JWS), detached and streaming, from B-B to B-LTA (embedded validation data and
//     archive time-stamps, so a signature still validates after its certificates expire),
//     with RFC 3161 time-stamps, OCSP and CRL revocation and a validation report modelled on
//     ETSI EN 319 102-1; [github.com/dpiblocks/dpi/signature/pades] does the same for PDFs
//     (PAdES), and says what changed in a PDF after each signature.
//   - [github.com/dpiblocks/dpi/consent]: consent records with the ISO/IEC TS 27560 fields,
//     a decision before data is shared, signed receipts, and a page where a person sees who
//     used their data and withdraws.
//   - [github.com/dpiblocks/dpi/interop]: signed (and optionally encrypted) messages between
//     agencies, speaking X-Road's message protocol for REST, with replay defence, a trust
//     directory and signed events over NATS JetStream.
//   - [github.com/dpiblocks/dpi/notify]: notifications that are never lost (an outbox in
//     the service's own transaction, webhooks, email, SMS), and legal notices in a digital
//     mailbox, deemed served by each country's rule, with proof of delivery and a paper
//     letter for whoever needs one.
//   - [github.com/dpiblocks/dpi/evidence] and [github.com/dpiblocks/dpi/store]: the
//     tamper-evident log every block keeps its evidence in, and the database it is kept in.
//   - [github.com/dpiblocks/dpi/dpitest]: real protocol peers on loopback for tests: a test
//     PKI (CAs, OCSP, CRL, time-stamp authority) and a test national identity provider.
//
// Evidence goes into an append-only log with an RFC 6962 Merkle tree and signed checkpoints,
// so that a person or an auditor can prove a record is there and that nothing was rewritten:
// consent history, the interop message log and delivery evidence are kept there, and an
// agency keeps its own records the same way.
//
// # Standards
//
//	identity    OpenID Connect Core 1.0 and Discovery 1.0, RFC 7636 (PKCE), RFC 7523
//	            (private_key_jwt), eIDAS levels of assurance, NIST SP 800-63-3
//	signature   RFC 5652 (CMS), ETSI EN 319 122-1 (CAdES baseline), ETSI TS 119 182-1
//	            (JAdES), ETSI EN 319 142-1 (PAdES baseline), ISO 32000 (PDF signatures,
//	            DocMDP, FieldMDP), RFC 7797, RFC 3161, RFC 6960 (OCSP), RFC 5280,
//	            ETSI EN 319 102-1
//	consent     ISO/IEC TS 27560, W3C DPV, RFC 7515, RFC 8785, Kantara Consent Receipt 1.1
//	interop     X-Road message protocol for REST, RFC 7515/7516, CloudEvents 1.0
//	notify      Standard Webhooks, RFC 5321, GOV.UK Notify's templates and statuses
//	evidence    RFC 6962 Merkle trees, C2SP signed notes and checkpoints
//
// # Promises every block keeps
//
// Verification needs an explicit trust decision: the caller names the trust anchors, the
// issuers and the allowed algorithms, and a zero configuration refuses rather than trusts.
// Keys are [crypto.Signer] values, so file keys, PKCS#11 HSMs and cloud KMS all fit.
// Errors are sentinel and typed values for [errors.Is] and [errors.As]; they name the
// check that failed and never contain a key, a token or a personal number. No input makes
// a block panic, and every read of untrusted input is bounded.
//
// The command line tool is in cmd/dpi; examples/citizen-journey runs the whole story:
//
//	go run ./examples/citizen-journey
package dpi
