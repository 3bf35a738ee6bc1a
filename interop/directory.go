package interop

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"github.com/dpiblocks/dpi/internal/limits"
)

// DirectoryFormat names the form of a signed directory document's payload.
const DirectoryFormat = "dpi-interop-directory/v1"

// directoryType is the JWS typ of a directory document, so that no other JWS signed with a
// configuration anchor's key is taken for one.
const directoryType = "dpi-directory+jws"

// Defaults of a RemoteDirectory.
const (
	// DefaultDirectoryRefresh is how long a RemoteDirectory uses a document before it
	// fetches it again, when RemoteDirectoryConfig.Refresh is zero.
	DefaultDirectoryRefresh = 10 * time.Minute
	// DefaultDirectoryRetry is how long a RemoteDirectory waits after a failed fetch
	// before it tries again, when RemoteDirectoryConfig.Retry is zero.
	DefaultDirectoryRetry = 30 * time.Second
)

// ErrDirectory reports a directory document that was checked and refused: malformed,
// signed with an algorithm or by a key that no anchor allows, expired, or listing a
// member of another instance. An *Error names the check.
var ErrDirectory = errors.New("interop: directory document rejected")

// ErrDirectoryUnavailable reports a RemoteDirectory that holds no valid document for an
// instance: none could be fetched and verified, and the last one expired. The verifier
// answers it as its own failure, not the client's.
var ErrDirectoryUnavailable = errors.New("interop: no valid directory document")

// CheckDirectory is the check an *Error names for a directory document's form and content;
// CheckAnchor for its signer.
const (
	CheckDirectory = "directory"
	CheckAnchor    = "anchor"
)

// Anchor is a configuration anchor: the trust an agency puts in one instance's (one
// country's) directory. A directory document is accepted only when it speaks for the
// anchor's instance and its signer's certificate chains to the anchor's roots; every
// member it lists must belong to that instance, so that one country's anchor never vouches
// for another country's members.
type Anchor struct {
	// Instance is the X-Road instance whose directory the anchor signs: "EE", "FI".
	Instance string
	// Roots are the certificates a directory signer's certificate must chain to.
	Roots *x509.CertPool
}

// DirectoryDocument is the content of a signed directory document: the members of one
// instance, the certificates that sign for each and their endpoints, valid from IssuedAt
// until ExpiresAt.
type DirectoryDocument struct {
	// Instance is the X-Road instance every member belongs to.
	Instance string
	// IssuedAt is when the document was made; a RemoteDirectory never replaces a document
	// with one issued earlier.
	IssuedAt time.Time
	// ExpiresAt is when the document stops being trusted, fetched again or not. It lies
	// at most limits.MaxInteropDirectoryValidity after IssuedAt.
	ExpiresAt time.Time
	// Members are the directory's entries, each ID listed once.
	Members []Member
	// Signer is the certificate that signed the document; set by VerifyDirectory and
	// ignored by SignDirectory.
	Signer *x509.Certificate
}

// directoryJSON is a directory document's payload: dpi's own JSON, lowerCamelCase.
type directoryJSON struct {
	Format    string       `json:"format"`
	Instance  string       `json:"instance"`
	IssuedAt  time.Time    `json:"issuedAt"`
	ExpiresAt time.Time    `json:"expiresAt"`
	Members   []memberJSON `json:"members"`
}

type memberJSON struct {
	ID           ClientID `json:"id"`
	Certificates []string `json:"certificates,omitempty"` // base64 DER
	Subjects     []string `json:"subjects,omitempty"`
	Endpoint     string   `json:"endpoint,omitempty"`
}

// check refuses a document that breaks the rules VerifyDirectory enforces, so that
// SignDirectory never signs one.
func (d *DirectoryDocument) check() error {
	if err := (ClientID{Instance: d.Instance, Class: "X", Member: "X"}).Validate(); err != nil {
		return fail(ErrDirectory, CheckDirectory, "instance %q is not an X-Road instance", truncate(d.Instance))
	}
	if !d.IssuedAt.Before(d.ExpiresAt) || d.ExpiresAt.Sub(d.IssuedAt) > limits.MaxInteropDirectoryValidity {
		return fail(ErrDirectory, CheckDirectory, "expires not after its issue, or more than %v after it", limits.MaxInteropDirectoryValidity)
	}
	if len(d.Members) > limits.MaxInteropDirectoryMembers {
		return fail(ErrDirectory, CheckDirectory, "more than %d members", limits.MaxInteropDirectoryMembers)
	}
	seen := make(map[ClientID]bool, len(d.Members))
	for i, m := range d.Members {
		if err := m.ID.Validate(); err != nil {
			return fail(ErrDirectory, CheckDirectory, "member %d: %v", i, err)
		}
		if m.ID.Instance != d.Instance {
			return fail(ErrDirectory, CheckDirectory, "member %s belongs to another instance than %s", m.ID, d.Instance)
		}
		if seen[m.ID] {
			return fail(ErrDirectory, CheckDirectory, "member %s is listed twice", m.ID)
		}
		seen[m.ID] = true
		if len(m.Certificates)+len(m.Subjects) == 0 || len(m.Certificates) > limits.MaxInteropMemberCertificates || len(m.Subjects) > limits.MaxInteropMemberCertificates {
			return fail(ErrDirectory, CheckDirectory, "member %s must list 1 to %d certificates or subjects", m.ID, limits.MaxInteropMemberCertificates)
		}
		for _, c := range m.Certificates {
			if c == nil {
				return fail(ErrDirectory, CheckDirectory, "member %s: a certificate is nil", m.ID)
			}
		}
		for _, s := range m.Subjects {
			if s == "" || len(s) > limits.MaxInteropSubject {
				return fail(ErrDirectory, CheckDirectory, "member %s: a subject is empty or too long", m.ID)
			}
		}
		if m.Endpoint != "" {
			u, err := url.Parse(m.Endpoint)
			if err != nil || u.Scheme != "https" || u.Host == "" || len(m.Endpoint) > limits.MaxInteropRequestURI {
				return fail(ErrDirectory, CheckDirectory, "member %s: the endpoint is not an https URL", m.ID)
			}
		}
	}
	return nil
}

// SignDirectory signs d as a directory document: a compact JWS (RFC 7515 §7.1) with the
// payload attached, whose protected header holds alg, typ (dpi-directory+jws) and x5c, the
// signer's chain. s is the configuration anchor's signer, for the operator who publishes
// the instance's directory. The document is checked as VerifyDirectory checks it, but for
// time: IssuedAt and ExpiresAt are written in whole seconds, UTC.
func SignDirectory(d *DirectoryDocument, s *Signer) ([]byte, error) {
	if d == nil || s == nil {
		return nil, fail(ErrConfig, CheckConfig, "no document or no signer")
	}
	doc := *d
	doc.IssuedAt, doc.ExpiresAt = signingTime(d.IssuedAt), signingTime(d.ExpiresAt)
	if err := doc.check(); err != nil {
		return nil, err
	}
	p := directoryJSON{Format: DirectoryFormat, Instance: doc.Instance, IssuedAt: doc.IssuedAt, ExpiresAt: doc.ExpiresAt,
		Members: make([]memberJSON, len(doc.Members))}
	for i, m := range doc.Members {
		mj := memberJSON{ID: m.ID, Subjects: m.Subjects, Endpoint: m.Endpoint}
		for _, c := range m.Certificates {
			mj.Certificates = append(mj.Certificates, base64.StdEncoding.EncodeToString(c.Raw))
		}
		p.Members[i] = mj
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("interop: directory: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType(directoryType).WithHeader("x5c", s.x5c)
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: cryptosigner.Opaque(s.key)}, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSign, err)
	}
	obj, err := js.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSign, err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSign, err)
	}
	return []byte(out), nil
}

// VerifyDirectory checks a signed directory document against anchors at now, and returns
// its content. The document must be a compact JWS of at most limits.MaxInteropDirectory
// bytes with exactly the header parameters alg (ES256 or EdDSA), typ and x5c; the
// signature must verify with the first x5c certificate; the payload must name an instance
// one of the anchors speaks for, and the x5c chain must lead to that anchor's roots at now
// and may sign; now must lie before its expiry, and its issue no further ahead of now than
// DefaultMaxSkew; every member must belong to the instance. A refusal is an *Error
// wrapping ErrDirectory.
func VerifyDirectory(doc []byte, anchors []Anchor, now time.Time) (*DirectoryDocument, error) {
	if err := checkAnchors(anchors); err != nil {
		return nil, err
	}
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || len(doc) > limits.MaxInteropDirectory {
		return nil, fail(ErrDirectory, CheckDirectory, "empty, or longer than %d bytes", limits.MaxInteropDirectory)
	}
	parts := strings.Split(string(doc), ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, fail(ErrDirectory, CheckDirectory, "not a compact JWS with its payload")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil || len(raw) > limits.MaxInteropEnvelope {
		return nil, fail(ErrDirectory, CheckDirectory, "protected header is not base64url, or too long")
	}
	var h map[string]json.RawMessage
	if json.Unmarshal(raw, &h) != nil || len(h) != 3 || h["alg"] == nil || h["typ"] == nil || h["x5c"] == nil {
		return nil, fail(ErrDirectory, CheckDirectory, "protected header parameters other than alg, typ and x5c")
	}
	var alg, typ string
	if json.Unmarshal(h["alg"], &alg) != nil || (alg != ES256 && alg != EdDSA) {
		return nil, fail(ErrDirectory, CheckAlgorithm, "%q is not ES256 or EdDSA", truncate(alg))
	}
	if json.Unmarshal(h["typ"], &typ) != nil || typ != directoryType {
		return nil, fail(ErrDirectory, CheckDirectory, "typ is not %s", directoryType)
	}
	chain, err := parseX5C(h["x5c"], ErrDirectory, CheckDirectory)
	if err != nil {
		return nil, err
	}
	obj, err := jose.ParseSignedCompact(string(doc), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return nil, fail(ErrDirectory, CheckDirectory, "not a JWS go-jose accepts")
	}
	payload, err := obj.Verify(chain[0].PublicKey)
	if err != nil {
		return nil, fail(ErrDirectory, CheckSignature, "the signature does not verify")
	}
	var p directoryJSON
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() {
		return nil, fail(ErrDirectory, CheckDirectory, "the payload is not a directory document")
	}
	if p.Format != DirectoryFormat {
		return nil, fail(ErrDirectory, CheckDirectory, "format is not %s", DirectoryFormat)
	}
	i := slices.IndexFunc(anchors, func(a Anchor) bool { return a.Instance == p.Instance })
	if i < 0 {
		return nil, fail(ErrDirectory, CheckAnchor, "no anchor for instance %q", truncate(p.Instance))
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: anchors[i].Roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fail(ErrDirectory, CheckAnchor, "the signer of %s's directory %s", p.Instance, certReason(err))
	}
	if ku := chain[0].KeyUsage; ku != 0 && ku&x509.KeyUsageDigitalSignature == 0 {
		return nil, fail(ErrDirectory, CheckAnchor, "the signer's certificate may not make digital signatures")
	}
	d := &DirectoryDocument{Instance: p.Instance, IssuedAt: p.IssuedAt.UTC(), ExpiresAt: p.ExpiresAt.UTC(), Signer: chain[0],
		Members: make([]Member, len(p.Members))}
	if len(p.Members) > limits.MaxInteropDirectoryMembers {
		return nil, fail(ErrDirectory, CheckDirectory, "more than %d members", limits.MaxInteropDirectoryMembers)
	}
	for i, mj := range p.Members {
		m := Member{ID: mj.ID, Subjects: mj.Subjects, Endpoint: mj.Endpoint}
		if len(mj.Certificates) > limits.MaxInteropMemberCertificates {
			return nil, fail(ErrDirectory, CheckDirectory, "member %d lists more than %d certificates", i, limits.MaxInteropMemberCertificates)
		}
		for j, c := range mj.Certificates {
			der, err := base64.StdEncoding.Strict().DecodeString(c)
			var cert *x509.Certificate
			if err == nil {
				cert, err = x509.ParseCertificate(der)
			}
			if err != nil {
				return nil, fail(ErrDirectory, CheckDirectory, "member %d: certificate %d does not parse", i, j)
			}
			m.Certificates = append(m.Certificates, cert)
		}
		d.Members[i] = m
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	if now.Before(d.IssuedAt.Add(-DefaultMaxSkew)) {
		return nil, fail(ErrDirectory, CheckTime, "issued at %s, after now", d.IssuedAt.Format(time.RFC3339))
	}
	if !now.Before(d.ExpiresAt) {
		return nil, fail(ErrDirectory, CheckTime, "expired at %s", d.ExpiresAt.Format(time.RFC3339))
	}
	return d, nil
}

func checkAnchors(anchors []Anchor) error {
	if len(anchors) == 0 {
		return fail(ErrConfig, CheckConfig, "no anchors: nothing is trusted by default")
	}
	seen := map[string]bool{}
	for _, a := range anchors {
		if a.Roots == nil || (ClientID{Instance: a.Instance, Class: "X", Member: "X"}).Validate() != nil {
			return fail(ErrConfig, CheckConfig, "an anchor needs an instance and roots")
		}
		if seen[a.Instance] {
			return fail(ErrConfig, CheckConfig, "two anchors for instance %s", a.Instance)
		}
		seen[a.Instance] = true
	}
	return nil
}

// parseX5C decodes an x5c header parameter: 1 to limits.MaxInteropChain certificates. A
// refusal is an *Error with sentinel and check.
func parseX5C(raw json.RawMessage, sentinel error, check string) ([]*x509.Certificate, error) {
	var x5c []string
	if json.Unmarshal(raw, &x5c) != nil || len(x5c) == 0 || len(x5c) > limits.MaxInteropChain {
		return nil, fail(sentinel, check, "x5c is not a chain of 1 to %d certificates", limits.MaxInteropChain)
	}
	chain := make([]*x509.Certificate, len(x5c))
	for i, c := range x5c {
		der, err := base64.StdEncoding.Strict().DecodeString(c)
		if err == nil {
			chain[i], err = x509.ParseCertificate(der)
		}
		if err != nil {
			return nil, fail(sentinel, check, "x5c certificate %d does not parse", i)
		}
	}
	return chain, nil
}

// DirectorySource is where a RemoteDirectory finds one instance's directory document, and
// the anchor it verifies it with.
type DirectorySource struct {
	// Anchor is the instance and the roots its directory's signer chains to.
	Anchor Anchor
	// URL is an https URL, a file URL (file:///etc/dpi/ee.jws) or an absolute file path.
	URL string
}

// RemoteDirectoryConfig configures a RemoteDirectory. Sources is required; the zero value
// of every other field is safe.
type RemoteDirectoryConfig struct {
	// Sources lists one directory per instance: federating with another country is adding
	// its source, with its anchor.
	Sources []DirectorySource
	// Client fetches https sources; nil means a client that gives up after
	// limits.MaxInteropDirectoryFetch and follows redirects to https URLs only.
	Client *http.Client
	// Refresh is how long a document is used before it is fetched again (it is never
	// used after its expiry); zero means DefaultDirectoryRefresh.
	Refresh time.Duration
	// Retry is how long to wait after a failed fetch before the next; zero means
	// DefaultDirectoryRetry. Meanwhile the last good document is used until it expires.
	Retry time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failed fetches and refused documents; nil logs nothing.
	Logger *slog.Logger
}

// RemoteDirectory is a Directory read from signed directory documents, one per instance,
// fetched over HTTPS or read from files, verified with VerifyDirectory against each
// source's anchor, and cached. A document is fetched on the first lookup of its instance,
// again once Refresh has passed; while a fetch fails or returns a document that does not
// verify, or one issued before the one held, the one held is used until its expiry, and
// never after: lookups then fail with ErrDirectoryUnavailable until a fetch succeeds. A
// member of an instance without a source is unknown. Build one with NewRemoteDirectory;
// it is safe for concurrent use.
type RemoteDirectory struct {
	sources map[string]*dirSource
	client  *http.Client
	refresh time.Duration
	retry   time.Duration
	now     func() time.Time
	logger  *slog.Logger
}

var _ Directory = (*RemoteDirectory)(nil)

type dirSource struct {
	src   DirectorySource
	fetch chan struct{} // held while fetching: one fetch at a time per source
	state atomic.Pointer[dirState]
}

// dirState is what a source holds: the last good document, when to fetch next and why the
// last fetch failed.
type dirState struct {
	doc     *DirectoryDocument
	members *StaticDirectory
	next    time.Time
	err     error
}

func (st *dirState) usable(now time.Time) bool {
	return st != nil && st.doc != nil && now.Before(st.doc.ExpiresAt)
}

// NewRemoteDirectory checks cfg and returns a directory. It fetches nothing: call Refresh
// to fetch every source now, so that a service fails at its start rather than at its first
// request.
func NewRemoteDirectory(cfg RemoteDirectoryConfig) (*RemoteDirectory, error) {
	if len(cfg.Sources) == 0 {
		return nil, fail(ErrConfig, CheckConfig, "no directory sources")
	}
	anchors := make([]Anchor, len(cfg.Sources))
	for i, s := range cfg.Sources {
		anchors[i] = s.Anchor
	}
	if err := checkAnchors(anchors); err != nil {
		return nil, err
	}
	d := &RemoteDirectory{sources: map[string]*dirSource{}, client: cfg.Client, refresh: cfg.Refresh, retry: cfg.Retry,
		now: cfg.Now, logger: cfg.Logger}
	for _, s := range cfg.Sources {
		if _, err := sourceLocation(s.URL); err != nil {
			return nil, err
		}
		d.sources[s.Anchor.Instance] = &dirSource{src: s, fetch: make(chan struct{}, 1)}
	}
	if d.refresh == 0 {
		d.refresh = DefaultDirectoryRefresh
	}
	if d.retry == 0 {
		d.retry = DefaultDirectoryRetry
	}
	if d.refresh < 0 || d.retry < 0 {
		return nil, fail(ErrConfig, CheckConfig, "Refresh and Retry may not be negative")
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.client == nil {
		d.client = &http.Client{Timeout: limits.MaxInteropDirectoryFetch, CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Scheme != "https" || len(via) >= 5 {
				return errors.New("interop: directory: redirect refused")
			}
			return nil
		}}
	}
	return d, nil
}

// sourceLocation returns the file path of a file source, or "" for an https one.
func sourceLocation(s string) (string, error) {
	if strings.HasPrefix(s, "/") {
		return s, nil
	}
	u, err := url.Parse(s)
	if err == nil {
		switch {
		case u.Scheme == "https" && u.Host != "":
			return "", nil
		case u.Scheme == "file" && strings.HasPrefix(u.Path, "/") && (u.Host == "" || u.Host == "localhost"):
			return u.Path, nil
		}
	}
	return "", fail(ErrConfig, CheckConfig, "a directory source is an https URL, a file URL or an absolute path")
}

// Lookup returns id's entry in its instance's directory or, for a subsystem without one,
// its member's, fetching the directory when it is due.
func (d *RemoteDirectory) Lookup(ctx context.Context, id ClientID) (*Member, error) {
	s := d.sources[id.Instance]
	if s == nil {
		return nil, fail(ErrUnknownMember, CheckMember, "no directory for instance %q", truncate(id.Instance))
	}
	st, err := d.current(ctx, s)
	if err != nil {
		return nil, err
	}
	return st.members.Lookup(ctx, id)
}

// Refresh fetches every source's document now, and returns the first failure, if any.
// Sources that fail keep the document they hold until it expires.
func (d *RemoteDirectory) Refresh(ctx context.Context) error {
	var first error
	for _, s := range d.sources {
		select {
		case s.fetch <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		st := d.update(ctx, s)
		<-s.fetch
		if st.err != nil && first == nil {
			first = st.err
		}
	}
	return first
}

// current returns the state of s, fetching first when it is due: one caller fetches while
// the others use the document held, or, when there is none valid, wait for the fetch.
func (d *RemoteDirectory) current(ctx context.Context, s *dirSource) (*dirState, error) {
	now := d.now()
	st := s.state.Load()
	if st == nil || !now.Before(st.next) {
		if st.usable(now) {
			select {
			case s.fetch <- struct{}{}:
				st = d.fetchIfDue(ctx, s)
				<-s.fetch
			default:
			}
		} else {
			select {
			case s.fetch <- struct{}{}:
				st = d.fetchIfDue(ctx, s)
				<-s.fetch
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	now = d.now()
	if !st.usable(now) {
		reason := "the document held has expired"
		if st != nil && st.err != nil {
			reason = oneLineErr(st.err)
		}
		return nil, fmt.Errorf("%w for instance %s: %s", ErrDirectoryUnavailable, s.src.Anchor.Instance, reason)
	}
	return st, nil
}

// fetchIfDue fetches s unless another caller did while this one waited. The caller holds
// s.fetch.
func (d *RemoteDirectory) fetchIfDue(ctx context.Context, s *dirSource) *dirState {
	if st := s.state.Load(); st != nil && d.now().Before(st.next) {
		return st
	}
	return d.update(ctx, s)
}

// update fetches and verifies s's document and stores the new state. The caller holds
// s.fetch.
func (d *RemoteDirectory) update(ctx context.Context, s *dirSource) *dirState {
	old := s.state.Load()
	now := d.now()
	doc, err := d.fetchDocument(ctx, s, now)
	if err == nil && old != nil && old.doc != nil && doc.IssuedAt.Before(old.doc.IssuedAt) {
		err = fail(ErrDirectory, CheckTime, "issued at %s, before the document held", doc.IssuedAt.Format(time.RFC3339))
	}
	var members *StaticDirectory
	if err == nil {
		members, err = NewStaticDirectory(doc.Members...)
	}
	if err != nil {
		if d.logger != nil {
			d.logger.Warn("interop: directory not refreshed", "instance", s.src.Anchor.Instance, "err", err)
		}
		st := &dirState{next: now.Add(d.retry), err: err}
		if old != nil {
			st.doc, st.members = old.doc, old.members
		}
		s.state.Store(st)
		return st
	}
	next := now.Add(d.refresh)
	if doc.ExpiresAt.Before(next) {
		next = doc.ExpiresAt
	}
	st := &dirState{doc: doc, members: members, next: next}
	s.state.Store(st)
	return st
}

// fetchDocument reads s's document, within limits.MaxInteropDirectory bytes, and verifies
// it. The fetch outlives a caller that gives up: its result serves the next.
func (d *RemoteDirectory) fetchDocument(ctx context.Context, s *dirSource, now time.Time) (*DirectoryDocument, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limits.MaxInteropDirectoryFetch)
	defer cancel()
	path, _ := sourceLocation(s.src.URL)
	var r io.Reader
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("interop: directory: %w", err)
		}
		defer f.Close()
		r = f
	} else {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.src.URL, nil)
		if err != nil {
			return nil, fmt.Errorf("interop: directory: %w", err)
		}
		resp, err := d.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("interop: directory: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("interop: directory: %s answered %d", s.src.URL, resp.StatusCode)
		}
		r = resp.Body
	}
	b, err := io.ReadAll(io.LimitReader(r, limits.MaxInteropDirectory+1))
	if err != nil {
		return nil, fmt.Errorf("interop: directory: %w", err)
	}
	if len(b) > limits.MaxInteropDirectory {
		return nil, fail(ErrDirectory, CheckDirectory, "longer than %d bytes", limits.MaxInteropDirectory)
	}
	return VerifyDirectory(b, []Anchor{s.src.Anchor}, now)
}
