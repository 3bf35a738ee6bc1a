"""Decrypt a JWE (general JSON serialization) with python-jwcrypto and write the plaintext.

usage: jwcrypto_decrypt.py KEY_PEM JWE_FILE

KEY_PEM is the recipient's private key (PKCS #8 PEM: EC P-256 or RSA). Only the algorithms a
dpi sealed message uses are allowed. The plaintext goes to standard output as is; the
protected header's cty to standard error.
"""
import json
import sys

from jwcrypto import jwe, jwk

key_file, jwe_file = sys.argv[1], sys.argv[2]
with open(key_file, "rb") as f:
    key = jwk.JWK.from_pem(f.read())
with open(jwe_file, "rb") as f:
    raw = f.read().decode()

parsed = json.loads(raw)
assert "recipients" in parsed, "not the general JSON serialization"
token = jwe.JWE()
token.allowed_algs = ["ECDH-ES+A256KW", "RSA-OAEP-256", "A256GCM"]
token.deserialize(raw, key=key)
sys.stderr.write(json.dumps(token.jose_header.get("cty")) + "\n")
sys.stdout.buffer.write(token.payload)
