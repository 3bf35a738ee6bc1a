#!/usr/bin/env python3
"""Independent reading of ETSI TS 119 182-1 §5.3.4 (sigTst) and §5.3.6.3.1 (arcTst over
etsiU components base64url-encoded, §5.3.6.3.1.1, or in clear JSON, §5.3.6.3.1.2, the
latter with canonAlg urn:ietf:rfc:8785), standard library only: for a detached JAdES
signature in JSON serialization with an unencoded payload, prints one line per time-stamp
token, "name sha256-imprint-hex token-file", and writes each token to DIR, so that
`openssl ts -verify -digest` can check it.

The RFC 8785 form is json.dumps with sorted keys, no whitespace and no ASCII escaping:
the same bytes as RFC 8785 for objects, arrays, strings, booleans, null and integers, which
is all an etsiU component holds (a float is refused rather than guessed at). Keys are
sorted by code point, which is RFC 8785's UTF-16 order for the ASCII names JAdES uses.

usage: jades_imprints.py SIGNATURE.json DOCUMENT DIR
"""
import base64
import hashlib
import json
import os
import sys

JCS = "urn:ietf:rfc:8785"


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def no_float(s):
    raise ValueError("a float in an etsiU component: " + s)


def jcs(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main():
    sig = json.load(open(sys.argv[1]), parse_float=no_float)
    doc = open(sys.argv[2], "rb").read()
    protected, signature = sig["protected"], sig["signature"]
    etsi_u = sig["header"]["etsiU"]
    for i, element in enumerate(etsi_u):
        component = element if isinstance(element, dict) else json.loads(b64url(element))
        (name, value), = component.items()
        if name == "sigTst":
            data = signature.encode()
        elif name == "arcTst":
            before = etsi_u[:i]
            if isinstance(element, dict):
                assert value["canonAlg"] == JCS, value.get("canonAlg")
                assert all(isinstance(e, dict) for e in before)
                covered = b"".join(jcs(e) for e in before)
            else:
                covered = "".join(before).encode()
            data = doc + b"." + protected.encode() + b"." + signature.encode() + b"." + covered
        else:
            continue
        token = os.path.join(sys.argv[3], "%s-%d.der" % (name, i))
        open(token, "wb").write(base64.b64decode(value["tstTokens"][0]["val"]))
        print(name, hashlib.sha256(data).hexdigest(), token)


main()
