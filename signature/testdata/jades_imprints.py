#!/usr/bin/env python3
"""Independent reading of ETSI TS 119 182-1 §5.3.4 (sigTst) and §5.3.6.3.1 (arcTst over
base64url-encoded etsiU components), standard library only: for a detached JAdES signature
in JSON serialization with an unencoded payload, prints one line per time-stamp token,
"name sha256-imprint-hex token-file", and writes each token to DIR, so that `openssl ts
-verify -digest` can check it.

usage: jades_imprints.py SIGNATURE.json DOCUMENT DIR
"""
import base64
import hashlib
import json
import os
import sys


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main():
    sig = json.load(open(sys.argv[1]))
    doc = open(sys.argv[2], "rb").read()
    protected, signature = sig["protected"], sig["signature"]
    etsi_u = sig["header"]["etsiU"]
    for i, element in enumerate(etsi_u):
        (name, value), = json.loads(b64url(element)).items()
        if name == "sigTst":
            data = signature.encode()
        elif name == "arcTst":
            data = doc + b"." + protected.encode() + b"." + signature.encode() + b"." + \
                "".join(etsi_u[:i]).encode()
        else:
            continue
        token = os.path.join(sys.argv[3], "%s-%d.der" % (name, i))
        open(token, "wb").write(base64.b64decode(value["tstTokens"][0]["val"]))
        print(name, hashlib.sha256(data).hexdigest(), token)


main()
