"""Verify a dpi signed message with python-jwcrypto: a JWS in the flattened JSON serialization.

usage: jwcrypto_verify_message.py MESSAGE_FILE ROOT_PEM

The signer's key is the first x5c certificate, once the x5c chain is checked to lead to
ROOT_PEM with the cryptography package. Prints {"header": protected header, "payload":
payload as text} as JSON.
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


message_file, root_file = sys.argv[1], sys.argv[2]
with open(message_file, "rb") as f:
    raw = f.read().decode()
with open(root_file, "rb") as f:
    root = x509.load_pem_x509_certificate(f.read())

flat = json.loads(raw)
assert set(flat) == {"protected", "payload", "signature"}, "not the flattened JSON serialization"
b64 = flat["protected"]
header = json.loads(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))
chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
for child, parent in zip(chain, chain[1:] + [root]):
    issued_by(child, parent)

token = jws.JWS()
token.deserialize(raw)
token.verify(jwk.JWK.from_pyca(chain[0].public_key()), alg=header["alg"])
print(json.dumps({"header": header, "payload": token.payload.decode("utf-8", "replace")}))
