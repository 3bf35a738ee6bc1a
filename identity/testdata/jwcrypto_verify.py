# Verifies a token with python-jwcrypto against a JWKS; exits 0 and prints the claims
# when the signature is valid. Usage: jwcrypto_verify.py JWKS_JSON TOKEN
import sys

from jwcrypto import jwk, jwt

keys = jwk.JWKSet.from_json(sys.argv[1])
tok = jwt.JWT(jwt=sys.argv[2], key=keys, algs=["ES256", "RS256", "PS256", "EdDSA"])
print(tok.claims)
