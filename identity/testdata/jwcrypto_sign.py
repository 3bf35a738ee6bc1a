# Signs an ID token with python-jwcrypto, an implementation independent of dpi's, and
# prints {"jwks": ..., "token": ...}. Usage: jwcrypto_sign.py ALG CLAIMS_JSON
import json
import sys

from jwcrypto import jwk, jwt

alg, claims = sys.argv[1], json.loads(sys.argv[2])
if alg.startswith("ES"):
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="py-1")
elif alg == "EdDSA":
    key = jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="py-1")
else:
    key = jwk.JWK.generate(kty="RSA", size=2048, kid="py-1")
token = jwt.JWT(header={"alg": alg, "kid": "py-1", "typ": "JWT"}, claims=claims)
token.make_signed_token(key)
jwks = {"keys": [json.loads(key.export_public())]}
print(json.dumps({"jwks": jwks, "token": token.serialize()}))
