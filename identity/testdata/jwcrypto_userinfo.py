# Builds a signed-then-encrypted userinfo response with python-jwcrypto, as MOSIP eSignet
# sends it, and prints {"jwks": ..., "jwe": ...}.
# Usage: jwcrypto_userinfo.py RP_PUBLIC_JWK_JSON CLAIMS_JSON
import json
import sys

from jwcrypto import jwe, jwk, jwt

rp = jwk.JWK.from_json(sys.argv[1])
claims = json.loads(sys.argv[2])
signer = jwk.JWK.generate(kty="RSA", size=2048, kid="idp-1")
signed = jwt.JWT(header={"alg": "RS256", "kid": "idp-1"}, claims=claims)
signed.make_signed_token(signer)
enc = jwe.JWE(signed.serialize().encode(),
              protected={"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "cty": "JWT"})
enc.add_recipient(rp)
print(json.dumps({"jwks": {"keys": [json.loads(signer.export_public())]},
                  "jwe": enc.serialize(compact=True)}))
