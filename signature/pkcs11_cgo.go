//go:build cgo

package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/miekg/pkcs11"
)

// p11module is one loaded PKCS#11 module. C_Initialize and C_Finalize act on the whole
// process, so signers that share a module share one initialisation, counted here: the
// last Close finalizes. This registry is the only package-level state in the package, and
// it mirrors state that the C library keeps anyway.
type p11module struct {
	ctx  *pkcs11.Ctx
	refs int
	// pins holds, per slot this process logged in to, a hash of the PIN that succeeded.
	// Login state is per token and process, so a second signer's C_Login answers "already
	// logged in" whatever PIN it gives; the hash lets that signer's PIN be checked anyway.
	pins map[uint][sha256.Size]byte
}

var p11modules = struct {
	sync.Mutex
	m map[string]*p11module
}{m: map[string]*p11module{}}

func acquireModule(path string) (*p11module, error) {
	p11modules.Lock()
	defer p11modules.Unlock()
	if m := p11modules.m[path]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("%w: cannot load the module", ErrPKCS11)
	}
	if err := ctx.Initialize(); err != nil && !isCKR(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("%w: C_Initialize: %v", ErrPKCS11, err)
	}
	m := &p11module{ctx: ctx, refs: 1, pins: map[uint][sha256.Size]byte{}}
	p11modules.m[path] = m
	return m, nil
}

func releaseModule(path string, m *p11module) {
	p11modules.Lock()
	defer p11modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(p11modules.m, path)
	_ = m.ctx.Finalize()
	m.ctx.Destroy()
}

func isCKR(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// p11token is an open session on a token with the handle of one private key.
type p11token struct {
	mu      sync.Mutex
	path    string
	mod     *p11module
	session pkcs11.SessionHandle
	key     pkcs11.ObjectHandle
	pub     crypto.PublicKey
	closed  bool
}

func openPKCS11(u *pkcs11URI, module, pin string) (crypto.PublicKey, *p11token, error) {
	mod, err := acquireModule(module)
	if err != nil {
		return nil, nil, err
	}
	t := &p11token{path: module, mod: mod}
	pub, err := t.open(u, pin)
	if err != nil {
		releaseModule(module, mod)
		return nil, nil, err
	}
	t.pub = pub
	return pub, t, nil
}

func (t *p11token) open(u *pkcs11URI, pin string) (crypto.PublicKey, error) {
	ctx := t.mod.ctx
	slot, err := findSlot(ctx, u)
	if err != nil {
		return nil, err
	}
	t.session, err = ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, fmt.Errorf("%w: C_OpenSession: %v", ErrPKCS11, err)
	}
	if pin != "" {
		err = t.login(slot, pin)
	}
	if err != nil {
		_ = ctx.CloseSession(t.session)
		return nil, err
	}
	pub, err := t.findKey(u)
	if err != nil {
		_ = ctx.CloseSession(t.session)
		return nil, err
	}
	return pub, nil
}

// findSlot returns the one slot whose token matches u.
func findSlot(ctx *pkcs11.Ctx, u *pkcs11URI) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("%w: C_GetSlotList: %v", ErrPKCS11, err)
	}
	var match []uint
	for _, s := range slots {
		if u.slotID != nil && *u.slotID != s {
			continue
		}
		ti, err := ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if (u.token != "" && ti.Label != u.token) || (u.manufacturer != "" && ti.ManufacturerID != u.manufacturer) ||
			(u.model != "" && ti.Model != u.model) || (u.serial != "" && ti.SerialNumber != u.serial) {
			continue
		}
		match = append(match, s)
	}
	switch len(match) {
	case 0:
		return 0, fmt.Errorf("%w: no token matches the uri", ErrPKCS11)
	case 1:
		return match[0], nil
	}
	return 0, fmt.Errorf("%w: %d tokens match the uri", ErrPKCS11, len(match))
}

// findObjects returns up to two objects matching tmpl.
func (t *p11token) findObjects(tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	ctx := t.mod.ctx
	if err := ctx.FindObjectsInit(t.session, tmpl); err != nil {
		return nil, fmt.Errorf("%w: C_FindObjectsInit: %v", ErrPKCS11, err)
	}
	objs, _, err := ctx.FindObjects(t.session, 2)
	if ferr := ctx.FindObjectsFinal(t.session); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: C_FindObjects: %v", ErrPKCS11, err)
	}
	return objs, nil
}

// login logs the user in to the token in slot. Login state belongs to the token and this
// process, not to the session: when another signer is already logged in, the PIN is
// compared with the one that succeeded instead.
func (t *p11token) login(slot uint, pin string) error {
	sum := sha256.Sum256([]byte(pin))
	p11modules.Lock()
	defer p11modules.Unlock()
	err := t.mod.ctx.Login(t.session, pkcs11.CKU_USER, pin)
	switch {
	case err == nil:
		t.mod.pins[slot] = sum
		return nil
	case isCKR(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN):
		if prev, ok := t.mod.pins[slot]; ok && subtle.ConstantTimeCompare(prev[:], sum[:]) == 1 {
			return nil
		}
		return fmt.Errorf("%w: the token refused the pin", ErrPKCS11)
	case isCKR(err, pkcs11.CKR_PIN_INCORRECT), isCKR(err, pkcs11.CKR_PIN_LOCKED):
		return fmt.Errorf("%w: the token refused the pin", ErrPKCS11)
	}
	return fmt.Errorf("%w: C_Login: %v", ErrPKCS11, err)
}

// findKey finds the one private key u names and reads its public key.
func (t *p11token) findKey(u *pkcs11URI) (crypto.PublicKey, error) {
	ctx := t.mod.ctx
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}
	if u.object != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, u.object))
	}
	if u.id != nil {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, u.id))
	}
	objs, err := t.findObjects(tmpl)
	if err != nil {
		return nil, err
	}
	switch len(objs) {
	case 0:
		return nil, fmt.Errorf("%w: no private key matches the uri", ErrPKCS11)
	case 1:
	default:
		return nil, fmt.Errorf("%w: more than one private key matches the uri", ErrPKCS11)
	}
	t.key = objs[0]

	attrs, err := ctx.GetAttributeValue(t.session, t.key, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil),
	})
	if err != nil || len(attrs) != 3 {
		return nil, fmt.Errorf("%w: cannot read the key's attributes", ErrPKCS11)
	}
	keyType, err := attrUint(attrs[0].Value)
	if err != nil {
		return nil, err
	}
	switch keyType {
	case pkcs11.CKK_RSA:
		return t.rsaPublic(attrs[1].Value, attrs[2].Value)
	case pkcs11.CKK_EC:
		return t.ecPublic(attrs[1].Value, attrs[2].Value)
	}
	return nil, &KeyError{Type: fmt.Sprintf("pkcs#11 key type %#x", keyType), Reason: "not a supported signing key type"}
}

// attrUint decodes a CK_ULONG attribute, in the host's byte order and size.
func attrUint(b []byte) (uint, error) {
	switch len(b) {
	case 4:
		return uint(binary.NativeEndian.Uint32(b)), nil
	case 8:
		return uint(binary.NativeEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("%w: malformed ulong attribute", ErrPKCS11)
}

// publicObject finds the public key object paired with the private key: same CKA_ID, or
// same CKA_LABEL when the key has no id.
func (t *p11token) publicObject(keyType uint, id, label []byte) (pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
	}
	if len(id) > 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, id))
	} else {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, label))
	}
	objs, err := t.findObjects(tmpl)
	if err != nil {
		return 0, err
	}
	if len(objs) != 1 {
		return 0, fmt.Errorf("%w: no unique public key object pairs with the private key", ErrPKCS11)
	}
	return objs[0], nil
}

func (t *p11token) rsaPublic(id, label []byte) (crypto.PublicKey, error) {
	ctx := t.mod.ctx
	want := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil),
		pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil),
	}
	// Most tokens expose the modulus and exponent on the private key; fall back to the
	// public key object.
	attrs, err := ctx.GetAttributeValue(t.session, t.key, want)
	if err != nil || len(attrs) != 2 || len(attrs[0].Value) == 0 {
		obj, ferr := t.publicObject(pkcs11.CKK_RSA, id, label)
		if ferr != nil {
			return nil, ferr
		}
		if attrs, err = ctx.GetAttributeValue(t.session, obj, want); err != nil || len(attrs) != 2 {
			return nil, fmt.Errorf("%w: cannot read the rsa public key", ErrPKCS11)
		}
	}
	n := new(big.Int).SetBytes(attrs[0].Value)
	e := new(big.Int).SetBytes(attrs[1].Value)
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || n.Sign() <= 0 {
		return nil, fmt.Errorf("%w: malformed rsa public key", ErrPKCS11)
	}
	if n.BitLen() < MinRSABits {
		return nil, &KeyError{Type: "RSA", Bits: n.BitLen(), Reason: fmt.Sprintf("modulus under %d bits", MinRSABits)}
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

var p11Curves = []struct {
	oid   asn1.ObjectIdentifier
	curve elliptic.Curve
}{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, elliptic.P256()},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, elliptic.P384()},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, elliptic.P521()},
}

func (t *p11token) ecPublic(id, label []byte) (crypto.PublicKey, error) {
	obj, err := t.publicObject(pkcs11.CKK_EC, id, label)
	if err != nil {
		return nil, err
	}
	attrs, err := t.mod.ctx.GetAttributeValue(t.session, obj, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil),
	})
	if err != nil || len(attrs) != 2 {
		return nil, fmt.Errorf("%w: cannot read the ec public key", ErrPKCS11)
	}
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(attrs[0].Value, &oid); err != nil || len(rest) != 0 {
		return nil, &KeyError{Type: "ECDSA", Reason: "curve not named by an oid"}
	}
	var curve elliptic.Curve
	for _, c := range p11Curves {
		if c.oid.Equal(oid) {
			curve = c.curve
		}
	}
	if curve == nil {
		return nil, &KeyError{Type: "ECDSA", Reason: "curve not allowed"}
	}
	// CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point (PKCS#11 v2.40
	// §2.3.3); some tokens return the bare point.
	point := attrs[1].Value
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
		point = inner
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed ec point", ErrPKCS11)
	}
	return pub, nil
}

// PKCS#1 v1.5 DigestInfo prefixes (RFC 8017 §9.2 note 1): CKM_RSA_PKCS signs what it is
// given, so the DigestInfo is built here.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var pssMechanisms = map[crypto.Hash]struct{ hash, mgf uint }{
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

func (t *p11token) sign(digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	var mech *pkcs11.Mechanism
	data := digest
	switch pub := t.pub.(type) {
	case *ecdsa.PublicKey:
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			salt := pss.SaltLength
			switch salt {
			case rsa.PSSSaltLengthAuto, rsa.PSSSaltLengthEqualsHash:
				salt = h.Size()
			}
			if salt < 0 || salt > pub.Size()-h.Size()-2 {
				return nil, fmt.Errorf("%w: pss salt length out of range", ErrPKCS11)
			}
			m := pssMechanisms[h]
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(m.hash, m.mgf, uint(salt)))
		} else {
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
			data = append(bytes.Clone(digestInfoPrefix[h]), digest...)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported key", ErrPKCS11)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("%w: signer is closed", ErrPKCS11)
	}
	ctx := t.mod.ctx
	if err := ctx.SignInit(t.session, []*pkcs11.Mechanism{mech}, t.key); err != nil {
		return nil, fmt.Errorf("%w: C_SignInit: %v", ErrPKCS11, err)
	}
	sig, err := ctx.Sign(t.session, data)
	if err != nil {
		return nil, fmt.Errorf("%w: C_Sign: %v", ErrPKCS11, err)
	}
	if _, ok := t.pub.(*ecdsa.PublicKey); ok {
		// CKM_ECDSA returns r || s, each the size of the curve order (PKCS#11 v2.40 §2.3.1).
		if len(sig) == 0 || len(sig)%2 != 0 {
			return nil, fmt.Errorf("%w: malformed ecdsa signature from the token", ErrPKCS11)
		}
		r := new(big.Int).SetBytes(sig[:len(sig)/2])
		s := new(big.Int).SetBytes(sig[len(sig)/2:])
		return asn1.Marshal(struct{ R, S *big.Int }{r, s})
	}
	return sig, nil
}

func (t *p11token) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.mod.ctx.CloseSession(t.session)
	releaseModule(t.path, t.mod)
	if err != nil {
		return fmt.Errorf("%w: C_CloseSession: %v", ErrPKCS11, err)
	}
	return nil
}
