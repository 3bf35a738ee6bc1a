#!/usr/bin/env python3
"""Independent reading of ETSI EN 319 122-1 clause 5.5.3 (archive-time-stamp-v3), standard
library only: prints the message imprint the latest archive time-stamp of a detached CAdES
signature must carry, and writes that time-stamp token to a file, so that `openssl ts
-verify -digest` can check the token against it.

usage: ats_v3_imprint.py SIGNATURE.der DOCUMENT TOKEN_OUT.der

The imprint is the hash of: the encapContentInfo eContentType (tag, length and value),
the hash of the signed data (the detached document), the SignerInfo fields version, sid,
digestAlgorithm, signedAttrs, signatureAlgorithm and signature as encoded, and the
ATSHashIndexV3 found in the token's ats-hash-index-v3 unsigned attribute, as encoded.
"""
import hashlib
import sys

ARCHIVE_TS_V3 = bytes.fromhex("060604008d450204")           # 0.4.0.1733.2.4
ATS_HASH_INDEX_V3 = bytes.fromhex("060704008195320105")     # 0.4.0.19122.1.5
HASHES = {
    bytes.fromhex("0609608648016503040201"): "sha256",
    bytes.fromhex("0609608648016503040202"): "sha384",
    bytes.fromhex("0609608648016503040203"): "sha512",
}


def tlvs(data):
    """Splits DER into (tag, whole TLV, value) triples."""
    out, i = [], 0
    while i < len(data):
        start, tag = i, data[i]
        i += 1
        length = data[i]
        i += 1
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(data[i:i + n], "big")
            i += n
        out.append((tag, data[start:i + length], data[i:i + length]))
        i += length
    return out


def signer_info(cms):
    """Returns (eContentType TLV, SignerInfo fields before unsignedAttrs, unsigned attrs)."""
    (_, _, ci), = tlvs(cms)
    _, _, wrapped = tlvs(ci)[1]
    (_, _, sd), = tlvs(wrapped)
    parts = tlvs(sd)
    econtent_type = tlvs(parts[2][2])[0][1]
    (_, _, si), = tlvs(parts[-1][2])
    fields = tlvs(si)
    unsigned = []
    if fields[-1][0] == 0xA1:
        unsigned = tlvs(fields[-1][2])
        fields = fields[:-1]
    return econtent_type, [f[1] for f in fields], unsigned


def attribute_values(attrs, oid):
    for _, _, attr in attrs:
        typ, values = tlvs(attr)
        if typ[1] == oid:
            for v in tlvs(values[2]):
                yield v[1]


def main():
    sig = open(sys.argv[1], "rb").read()
    doc = open(sys.argv[2], "rb").read()
    econtent_type, fields, unsigned = signer_info(sig)
    token = list(attribute_values(unsigned, ARCHIVE_TS_V3))[-1]
    _, _, token_unsigned = signer_info(token)
    index, = attribute_values(token_unsigned, ATS_HASH_INDEX_V3)
    (_, _, seq), = tlvs(index)
    alg = tlvs(seq)[0]  # hashIndAlgorithm, the first element of ATSHashIndexV3
    hash_name = HASHES[tlvs(alg[2])[0][1]]
    h = hashlib.new(hash_name)
    h.update(econtent_type)
    h.update(hashlib.new(hash_name, doc).digest())
    for f in fields:
        h.update(f)
    h.update(index)
    open(sys.argv[3], "wb").write(token)
    print(h.hexdigest())


main()
