package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/dpiblocks/dpi/consent"
	"github.com/dpiblocks/dpi/dpitest"
	"github.com/dpiblocks/dpi/evidence"
	"github.com/dpiblocks/dpi/interop"
	"github.com/dpiblocks/dpi/store"
)

// The two agencies as members of the data exchange: A's benefits subsystem calls B's income
// service.
var (
	memberA       = interop.ClientID{Instance: "BR", Class: "GOV", Member: "agency-a", Subsystem: "benefits"}
	memberB       = interop.ClientID{Instance: "BR", Class: "GOV", Member: "agency-b", Subsystem: "income"}
	incomeService = interop.ServiceID{Provider: memberB, Code: "income"}
)

// incomeQuery is what agency A sends: whose income, and why. The national number travels in
// the body, which the message logs keep only as a digest.
type incomeQuery struct {
	Country    string `json:"country"`
	Scheme     string `json:"scheme"`
	NationalID string `json:"nationalId"`
	Purpose    string `json:"purpose"`
}

// consentCheck is how agency B's service asks whether it may share: a function the agency
// passes in, so the interop block never knows about consent.
type consentCheck func(ctx context.Context, q incomeQuery, recipient interop.ClientID) (allow bool, reason string, err error)

// exchangeData: agency A asks agency B for the person's declared income over the interop
// transport, each request and response signed with the agency's certificate and bound to the
// other; B's service checks the person's consent in its consent store before it answers,
// and both agencies keep the exchange in their own evidence logs. The consent step left the
// consent withdrawn, so the person first consents again.
func exchangeData(j *journey) error {
	if j.person == nil || j.person.NationalID == nil || !j.person.NationalID.Validated {
		return errors.New("no signed-in person with a valid national number: the sign-in step did not complete")
	}
	if j.consent == nil || j.pseudonymizer == nil {
		return errors.New("no consent store: the consent step did not complete")
	}
	nid := j.person.NationalID
	person := j.pseudonymizer.Person(nid.Country, nid.Scheme, nid.Value)
	sum := sha256.Sum256([]byte(notice))
	given, err := j.consent.Give(j.ctx, consent.Grant{
		Person: person, Controller: agencyB, Recipients: []string{agencyA},
		Purposes:       []consent.Purpose{{Code: "housing-benefit", Text: "Decide your application for housing benefit"}},
		DataCategories: []string{"income"}, LegalBasis: "BR-LGPD-7-I",
		Notice:   consent.Notice{URL: "https://agency-b.example/notice", Version: "2026-1", SHA256: hex.EncodeToString(sum[:])},
		Language: "pt-BR", Method: "web-form", ValidFor: 90 * 24 * time.Hour, Withdrawal: "https://agency-b.example/my-data",
	})
	if err != nil {
		return err
	}
	j.logf("the person consents again on agency B's portal (%s)", given.Record.Status)

	// Each agency holds a signing certificate from the national PKI (a test PKI here), trusts
	// its root, and knows the other from the directory of members.
	pki, err := dpitest.StartPKI(dpitest.PKIOptions{})
	if err != nil {
		return err
	}
	j.cleanup = append(j.cleanup, pki.Close)
	credA, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency A benefits"})
	if err != nil {
		return err
	}
	credB, err := pki.Issue(dpitest.CertOptions{CommonName: "Agency B income register"})
	if err != nil {
		return err
	}
	signA, err := interop.NewSigner(credA.Key, credA.Chain)
	if err != nil {
		return err
	}
	signB, err := interop.NewSigner(credB.Key, credB.Chain)
	if err != nil {
		return err
	}
	dir, err := interop.NewStaticDirectory(
		interop.Member{ID: memberA, Certificates: credA.Chain[:1]},
		interop.Member{ID: memberB, Certificates: credB.Chain[:1]},
	)
	if err != nil {
		return err
	}
	revocation, err := crlChecker(pki)
	if err != nil {
		return err
	}
	verifier, err := interop.NewVerifier(interop.VerifierConfig{Roots: pki.Pool(), Directory: dir, Revocation: revocation})
	if err != nil {
		return err
	}
	j.logf("two members, %s and %s, each with a certificate from the PKI, checked against its CRLs", memberA, memberB)

	logA, err := openAgencyLog(j, "agency-a.example/interop")
	if err != nil {
		return err
	}
	logB, err := openAgencyLog(j, "agency-b.example/interop")
	if err != nil {
		return err
	}

	// Agency B's service: the handler has verified who asks before the service runs; the
	// service asks the consent store before it shares.
	check := func(ctx context.Context, q incomeQuery, recipient interop.ClientID) (bool, string, error) {
		if recipient.MemberID() != memberA.MemberID() {
			return false, "unknown-recipient", nil
		}
		d, err := j.consent.Authorize(ctx, consent.Request{
			Person:     j.pseudonymizer.Person(q.Country, q.Scheme, q.NationalID),
			Controller: agencyB, Recipient: agencyA, Purpose: q.Purpose, DataCategories: []string{"income"},
		})
		if err != nil {
			return false, "", err
		}
		return d.Allow, string(d.Reason), nil
	}
	h, err := interop.NewHandler(interop.HandlerConfig{Provider: memberB, Signer: signB, Verifier: verifier, Log: logB}, incomeHandler(check))
	if err != nil {
		return err
	}
	srv := httptest.NewServer(h)
	j.cleanup = append(j.cleanup, srv.Close)

	// Agency A's client: an http.Client whose transport signs and verifies.
	t, err := interop.NewTransport(interop.TransportConfig{Client: memberA, Service: incomeService, Signer: signA, Verifier: verifier, Log: logA})
	if err != nil {
		return err
	}
	client := &http.Client{Transport: t, Timeout: 10 * time.Second}
	ask := func(purpose string) (int, []byte, string, error) {
		q, _ := json.Marshal(incomeQuery{Country: nid.Country, Scheme: nid.Scheme, NationalID: nid.Value, Purpose: purpose})
		req, err := http.NewRequestWithContext(j.ctx, http.MethodPost, srv.URL+"/v1/income", bytes.NewReader(q))
		if err != nil {
			return 0, nil, "", err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body) // trusted only once read to its end without error
		return resp.StatusCode, body, resp.Request.Header.Get(interop.HeaderID), err
	}

	status, body, id, err := ask("housing-benefit")
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("agency B answered %d: %s", status, body)
	}
	var income struct {
		Year    int `json:"year"`
		Monthly int `json:"monthlyBRL"`
	}
	if err := json.Unmarshal(body, &income); err != nil {
		return err
	}
	j.logf("agency A asks for the income to decide housing benefit: 200, R$ %d a month in %d, signed by agency B and bound to the request", income.Monthly, income.Year)

	status, body, denied, err := ask("marketing")
	if err != nil {
		return err
	}
	if status != http.StatusForbidden {
		return fmt.Errorf("a request for marketing was answered %d", status)
	}
	j.logf("agency A asks for another purpose: %d, %s (the refusal is signed too)", status, bytes.TrimSpace(body))

	// Both agencies hold the exchange in their own evidence logs, under the message ID.
	for _, side := range []struct {
		name string
		log  *evidence.Log
	}{{"agency A", logA}, {"agency B", logB}} {
		var kinds []string
		for _, msg := range []string{id, denied} {
			for e, err := range side.log.Scan(j.ctx, evidence.Filter{Ref: msg}) {
				if err != nil {
					return err
				}
				kinds = append(kinds, e.Kind)
			}
		}
		if len(kinds) != 4 {
			return fmt.Errorf("%s's log holds %d records of the two exchanges, want 4", side.name, len(kinds))
		}
		j.logf("%s's log: %s, %s for message %s…, and the same for the refusal", side.name, kinds[0], kinds[1], id[:8])
	}
	h2, err := j.consent.History(j.ctx, person)
	if err != nil {
		return err
	}
	j.logf("the person's history shows %d uses of their income by %s", len(h2.Uses), agencyA)
	return nil
}

// incomeHandler is agency B's income service. It reads the query, asks check, and answers
// the income or 403 with the reason.
func incomeHandler(check consentCheck) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/income", func(w http.ResponseWriter, r *http.Request) {
		msg, ok := interop.MessageFrom(r.Context())
		if !ok {
			http.Error(w, "no interop message", http.StatusInternalServerError)
			return
		}
		var q incomeQuery
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&q); err != nil {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		allow, reason, err := check(r.Context(), q, msg.Client)
		if err != nil {
			http.Error(w, "consent store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if !allow {
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]string{"denied": reason})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]int{"year": 2025, "monthlyBRL": 4200})
	})
	return mux
}

// openAgencyLog opens an agency's own evidence log in its own SQLite database.
func openAgencyLog(j *journey, origin string) (*evidence.Log, error) {
	dir, err := os.MkdirTemp("", "dpi-journey-interop-")
	if err != nil {
		return nil, err
	}
	j.cleanup = append(j.cleanup, func() { os.RemoveAll(dir) })
	db, err := store.Open(j.ctx, "sqlite://"+filepath.Join(dir, "evidence.db"))
	if err != nil {
		return nil, err
	}
	j.cleanup = append(j.cleanup, func() { db.Close() })
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return evidence.Open(j.ctx, db, evidence.Config{Origin: origin, Signer: key})
}

// crlChecker answers the verifier's revocation question from the CRLs the PKI publishes,
// fetched once: a certificate is good when its issuer's CRL, current and signed by that
// issuer, does not list it.
func crlChecker(pki *dpitest.PKI) (interop.RevocationChecker, error) {
	var lists []*x509.RevocationList
	for _, get := range []func() ([]byte, error){pki.CRL, pki.RootCRL} {
		der, err := get()
		if err != nil {
			return nil, err
		}
		l, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, err
		}
		lists = append(lists, l)
	}
	return interop.RevocationCheckerFunc(func(_ context.Context, chain []*x509.Certificate) (interop.RevocationStatus, error) {
		for i := 0; i+1 < len(chain); i++ {
			cert, issuer := chain[i], chain[i+1]
			var crl *x509.RevocationList
			for _, l := range lists {
				if bytes.Equal(l.RawIssuer, issuer.RawSubject) && l.CheckSignatureFrom(issuer) == nil && time.Now().Before(l.NextUpdate) {
					crl = l
				}
			}
			if crl == nil {
				return interop.RevocationUnknown, fmt.Errorf("no current CRL from %s", issuer.Subject.CommonName)
			}
			for _, r := range crl.RevokedCertificateEntries {
				if r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return interop.RevocationRevoked, nil
				}
			}
		}
		return interop.RevocationGood, nil
	}), nil
}
