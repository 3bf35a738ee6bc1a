package dpitest

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/dpiblocks/dpi/internal/limits"
)

// TSAPolicyOID is the TSA policy (RFC 3161 §2.4.2 TSTInfo.policy) of the dpitest time-stamp
// authority. It lies under 2.999, the arc ITU-T X.660 reserves for examples, so that no
// token from this TSA can be mistaken for one issued under a real policy. A request naming
// another policy is rejected with unacceptedPolicy.
const TSAPolicyOID = "2.999.3161.1"

var tsaPolicy = asn1.ObjectIdentifier{2, 999, 3161, 1}

// tsaAccuracy is the accuracy (RFC 3161 §2.4.2) the TSA claims for genTime.
const tsaAccuracy = time.Second

// serveTSA is the time-stamp authority over HTTP (RFC 3161 §3.4): a DER TimeStampReq with
// Content-Type application/timestamp-query in, a DER TimeStampResp with Content-Type
// application/timestamp-reply out. A request the TSA will not stamp gets a TimeStampResp
// with status rejection and a failure reason, never a bare HTTP error.
func (p *PKI) serveTSA(w http.ResponseWriter, r *http.Request) {
	cred := p.tsa
	if name := r.PathValue("name"); name != "" {
		p.tsasMu.Lock()
		cred = p.tsas[name]
		p.tsasMu.Unlock()
		if cred == nil {
			http.NotFound(w, r)
			return
		}
	}
	if !p.tsaUp.Load() {
		http.Error(w, "time-stamp authority unavailable", http.StatusServiceUnavailable)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/timestamp-query" {
		http.Error(w, "content type must be application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	der, err := io.ReadAll(io.LimitReader(r.Body, limits.MaxTSARequest+1))
	var resp []byte
	if err != nil || len(der) > limits.MaxTSARequest {
		resp = tsaReject(timestamp.BadDataFormat)
	} else {
		resp = p.timeStamp(cred, der)
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}

// TimeStamp answers a DER TimeStampReq with a DER TimeStampResp (RFC 3161 §2.4), as the
// TSA endpoint does: granted with a token signed by the TSA credential, whose genTime is the
// PKI clock's now and whose nonce echoes the request's, or rejected with a failure reason
// (badDataFormat, badAlg, unacceptedPolicy, systemFailure). It never panics on any input.
// The token carries the TSA certificate and the intermediate when the request sets certReq.
func (p *PKI) TimeStamp(req []byte) []byte { return p.timeStamp(p.tsa, req) }

func (p *PKI) timeStamp(tsa *Credential, req []byte) []byte {
	q, err := timestamp.ParseRequest(req)
	if err != nil {
		return tsaReject(timestamp.BadDataFormat)
	}
	switch q.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		// SHA-1 imprints are refused: a time-stamp over a SHA-1 digest proves nothing today.
		return tsaReject(timestamp.BadAlgorithm)
	}
	if len(q.HashedMessage) != q.HashAlgorithm.Size() {
		return tsaReject(timestamp.BadDataFormat)
	}
	if len(q.TSAPolicyOID) > 0 && !q.TSAPolicyOID.Equal(tsaPolicy) {
		return tsaReject(timestamp.UnacceptedPolicy)
	}
	for _, e := range q.Extensions {
		if e.Critical {
			return tsaReject(timestamp.UnacceptedExtension)
		}
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     q.HashAlgorithm,
		HashedMessage:     q.HashedMessage,
		Time:              p.now().UTC(),
		Accuracy:          tsaAccuracy,
		Policy:            tsaPolicy,
		Nonce:             q.Nonce,
		AddTSACertificate: q.Certificates,
		Certificates:      []*x509.Certificate{p.Intermediate},
	}
	resp, err := ts.CreateResponseWithOpts(tsa.Cert, tsa.Key, crypto.SHA256)
	if err != nil {
		return tsaReject(timestamp.SystemFailure)
	}
	return resp
}

// tsaReject returns a TimeStampResp with status rejection and the failure reason fi.
func tsaReject(fi timestamp.FailureInfo) []byte {
	resp, err := timestamp.CreateErrorResponse(timestamp.Rejection, fi)
	if err != nil {
		// Marshalling a status and a bit string cannot fail; a constant rejection keeps the
		// handler total anyway: SEQUENCE { SEQUENCE { INTEGER 2 } }.
		return []byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02}
	}
	return resp
}

// TSA is a further time-stamp authority of a PKI, made by [PKI.AddTSA]: an archive
// time-stamp authority, or a successor to one whose certificate expires.
type TSA struct {
	// URL is where it answers RFC 3161 requests, as the PKI's TSAURL does.
	URL string
	// Credential is its key and certificate (id-kp-timeStamping, issued by the
	// intermediate CA).
	Credential *Credential
}

// AddTSA starts another time-stamp authority on the PKI's server, at TSAURL + "/" + name,
// with a certificate valid from the earlier of the PKI clock's now and the wall clock
// (less an hour) until validity after the PKI clock's now. Made after the clock has
// travelled, it is the authority that renews archive time-stamps. A name already used is
// refused.
func (p *PKI) AddTSA(name string, validity time.Duration) (*TSA, error) {
	if name == "" || validity <= 0 {
		return nil, fmt.Errorf("%w: a tsa needs a name and a validity", ErrInvalidOptions)
	}
	p.tsasMu.Lock()
	defer p.tsasMu.Unlock()
	if p.tsas[name] != nil {
		return nil, fmt.Errorf("%w: tsa %q exists", ErrInvalidOptions, name)
	}
	lo, _ := spanWithWallClock(p.now())
	cred, err := p.Issue(CertOptions{CommonName: "dpitest TSA " + name, KeyType: ECDSAP256, Usage: UsageTimeStamping,
		NotBefore: lo.Add(-time.Hour), NotAfter: p.now().Add(validity)})
	if err != nil {
		return nil, err
	}
	if p.tsas == nil {
		p.tsas = map[string]*Credential{}
	}
	p.tsas[name] = cred
	return &TSA{URL: p.TSAURL + "/" + url.PathEscape(name), Credential: cred}, nil
}
