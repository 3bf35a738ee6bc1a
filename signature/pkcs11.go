package signature

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dpiblocks/dpi/internal/limits"
)

// Errors of the PKCS#11 signer.
var (
	// ErrPKCS11Unavailable reports a binary built without cgo (CGO_ENABLED=0): PKCS#11
	// modules are C shared libraries, so such a binary cannot use an HSM.
	ErrPKCS11Unavailable = errors.New("signature: pkcs#11 unavailable in this build (built without cgo)")

	// ErrPKCS11URI reports a malformed or unsupported RFC 7512 pkcs11: URI.
	ErrPKCS11URI = errors.New("signature: invalid pkcs11 uri")

	// ErrPKCS11 reports a failure of the module or token: the module cannot be loaded, no
	// token or key (or more than one) matches the URI, the PIN is refused, or signing fails.
	ErrPKCS11 = errors.New("signature: pkcs#11 failure")
)

// PKCS11Options configures [OpenPKCS11]. What the URI says takes precedence over nothing,
// and contradicting it is an error.
type PKCS11Options struct {
	// Module is the absolute path of the PKCS#11 module (the HSM vendor's shared library,
	// e.g. /usr/lib/softhsm/libsofthsm2.so). It is used when the URI has no module-path; if
	// both are set they must be equal. Loading a module runs its code in this process, so a
	// pkcs11: URI, like a module path, must come from the operator's configuration, never
	// from a request.
	Module string
	// PIN is the user PIN, used when the URI has neither pin-value nor pin-source. With no PIN
	// at all the token is used without logging in.
	PIN string
}

// PKCS11Signer is a [crypto.Signer] whose private key stays in a PKCS#11 token (an HSM, a
// smart card, SoftHSM). It signs with ECDSA (P-256, P-384, P-521; CKM_ECDSA) and RSA
// (PKCS#1 v1.5 through CKM_RSA_PKCS, or PSS through CKM_RSA_PKCS_PSS when opts is an
// *rsa.PSSOptions), over digests made by SHA-256, SHA-384 or SHA-512. It is safe for
// concurrent use (calls are serialised on its session). Close it when done.
type PKCS11Signer struct {
	pub crypto.PublicKey
	tok *p11token
}

var _ crypto.Signer = (*PKCS11Signer)(nil)

// OpenPKCS11 opens the private key named by an RFC 7512 pkcs11: URI, for example
//
//	pkcs11:token=dpi;object=agency-signing?pin-source=file:/run/secrets/hsm-pin&module-path=/usr/lib/softhsm/libsofthsm2.so
//
// Path attributes token, manufacturer, model, serial and slot-id select the token; object
// (CKA_LABEL), id (CKA_ID, percent-encoded bytes) and type (only "private") select the key.
// Query attributes pin-value or pin-source (a file path or file: URI whose first line is the
// PIN) and module-path are read; module-name, library-* and unknown attributes (other than
// "x-" vendor ones) are refused rather than ignored, so that a URI never selects a different
// key than its author meant. Exactly one token and one private key must match.
//
// The key must be RSA of at least [MinRSABits] bits or ECDSA on P-256, P-384 or P-521.
// Errors match [ErrPKCS11URI], [ErrPKCS11], [ErrPKCS11Unavailable] or are a [*KeyError];
// they never contain the PIN.
func OpenPKCS11(uri string, opts PKCS11Options) (*PKCS11Signer, error) {
	u, err := parsePKCS11URI(uri)
	if err != nil {
		return nil, err
	}
	module := u.modulePath
	switch {
	case module == "":
		module = opts.Module
	case opts.Module != "" && filepath.Clean(opts.Module) != filepath.Clean(module):
		return nil, fmt.Errorf("%w: module-path contradicts the configured module", ErrPKCS11URI)
	}
	if module == "" {
		return nil, fmt.Errorf("%w: no module (set module-path or PKCS11Options.Module)", ErrPKCS11URI)
	}
	if !filepath.IsAbs(module) {
		return nil, fmt.Errorf("%w: module path must be absolute", ErrPKCS11URI)
	}
	pin := opts.PIN
	switch {
	case u.pinValue != "" && u.pinSource != "":
		return nil, fmt.Errorf("%w: both pin-value and pin-source", ErrPKCS11URI)
	case u.pinValue != "":
		pin = u.pinValue
	case u.pinSource != "":
		if pin, err = readPINSource(u.pinSource); err != nil {
			return nil, err
		}
	}
	pub, tok, err := openPKCS11(u, module, pin)
	if err != nil {
		return nil, err
	}
	return &PKCS11Signer{pub: pub, tok: tok}, nil
}

// Public returns the public key of the token's key pair.
func (s *PKCS11Signer) Public() crypto.PublicKey { return s.pub }

// Sign signs digest, the output of opts.HashFunc(), with the token's key. rand is not used:
// the token draws its own randomness. The result is an ASN.1 DER ECDSA-Sig-Value for ECDSA
// keys and the raw signature for RSA, as crypto.Signer requires.
func (s *PKCS11Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		return nil, fmt.Errorf("%w: no signer options", ErrPKCS11)
	}
	switch h := opts.HashFunc(); h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		if len(digest) != h.Size() {
			return nil, fmt.Errorf("%w: digest length does not match %v", ErrPKCS11, h)
		}
	default:
		return nil, fmt.Errorf("%w: hash %v not supported for pkcs#11 signing", ErrPKCS11, h)
	}
	return s.tok.sign(digest, opts)
}

// Close ends the signer's session with the token and, when it was the last user of its
// module in this process, finalizes and unloads the module.
func (s *PKCS11Signer) Close() error { return s.tok.close() }

// pkcs11URI is the part of an RFC 7512 URI this package understands.
type pkcs11URI struct {
	token, manufacturer, model, serial string
	slotID                             *uint
	object                             string
	id                                 []byte
	pinValue, pinSource, modulePath    string
}

// parsePKCS11URI parses an RFC 7512 §2.3 pkcs11: URI.
func parsePKCS11URI(s string) (*pkcs11URI, error) {
	bad := func(reason string) error { return fmt.Errorf("%w: %s", ErrPKCS11URI, reason) }
	if len(s) > limits.MaxPKCS11URI {
		return nil, bad("too long")
	}
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return nil, bad(`does not start with "pkcs11:"`)
	}
	path, query, _ := strings.Cut(rest, "?")
	u := &pkcs11URI{}
	seen := map[string]bool{}
	attrs := func(part, sep string, set func(name, value string) error) error {
		if part == "" {
			return nil
		}
		for _, a := range strings.Split(part, sep) {
			name, raw, ok := strings.Cut(a, "=")
			if !ok || name == "" {
				return bad("attribute without a value")
			}
			if seen[name] {
				return bad("repeated attribute " + strconv.Quote(name))
			}
			seen[name] = true
			value, err := url.PathUnescape(raw)
			if err != nil {
				return bad("bad percent-encoding in " + strconv.Quote(name))
			}
			if strings.HasPrefix(name, "x-") {
				continue
			}
			if err := set(name, value); err != nil {
				return err
			}
		}
		return nil
	}
	err := attrs(path, ";", func(name, v string) error {
		switch name {
		case "token":
			u.token = v
		case "manufacturer":
			u.manufacturer = v
		case "model":
			u.model = v
		case "serial":
			u.serial = v
		case "object":
			u.object = v
		case "id":
			u.id = []byte(v)
		case "type":
			if v != "private" {
				return bad(`type must be "private"`)
			}
		case "slot-id":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad("slot-id is not a number")
			}
			id := uint(n)
			u.slotID = &id
		default:
			return bad("unsupported attribute " + strconv.Quote(name))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = attrs(query, "&", func(name, v string) error {
		switch name {
		case "pin-value":
			u.pinValue = v
		case "pin-source":
			u.pinSource = v
		case "module-path":
			u.modulePath = v
		default:
			return bad("unsupported query attribute " + strconv.Quote(name))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// readPINSource reads a PIN from an RFC 7512 pin-source: a file path or a file: URI. The
// PIN is the file's first line.
func readPINSource(src string) (string, error) {
	path := src
	if strings.HasPrefix(src, "file:") {
		fu, err := url.Parse(src)
		if err != nil || (fu.Host != "" && fu.Host != "localhost") {
			return "", fmt.Errorf("%w: pin-source is not a local file uri", ErrPKCS11URI)
		}
		path = fu.Path
	} else if strings.Contains(src, ":") {
		return "", fmt.Errorf("%w: pin-source scheme not supported", ErrPKCS11URI)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: cannot open pin-source file", ErrPKCS11)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limits.MaxPINFile+1))
	if err != nil || len(b) > limits.MaxPINFile {
		return "", fmt.Errorf("%w: cannot read pin-source file", ErrPKCS11)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSuffix(line, "\r"), nil
}
