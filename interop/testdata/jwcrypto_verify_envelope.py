"""Verify a dpi interop envelope with python-jwcrypto: a compact JWS with a detached payload.

usage: jwcrypto_verify_envelope.py ENVELOPE PAYLOAD_FILE ROOT_PEM

The payload is the signing input the receiver rebuilt from the message it received. The
signer's key is taken from the first x5c certificate, after checking that the x5c chain
leads to ROOT_PEM with the cryptography package. Prints the protected header as JSON.
"""
import base64
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwcrypto import jwk, jws


def issued_by(child, parent):
    """Check child's signature with parent's key (cryptography before 40 has no helper)."""
    assert child.issuer == parent.subject, "issuer does not match"
    key = parent.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm))
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(child.signature, child.tbs_certificate_bytes)
    else:
        raise ValueError("unexpected CA key type")

envelope, payload_file, root_file = sys.argv[1], sys.argv[2], sys.argv[3]
with open(payload_file, "rb") as f:
    payload = f.read()
with open(root_file, "rb") as f:
    root = x509.load_pem_x509_certificate(f.read())

header_b64, empty, sig_b64 = envelope.split(".")
assert empty == "", "the payload must be detached"
header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
for child, parent in zip(chain, chain[1:] + [root]):
    issued_by(child, parent)

key = jwk.JWK.from_pyca(chain[0].public_key())
token = jws.JWS()
compact = header_b64 + "." + base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "." + sig_b64
token.deserialize(compact)
token.verify(key, alg=header["alg"])
print(json.dumps(header))
