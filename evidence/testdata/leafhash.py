#!/usr/bin/env python3
"""Independent check of dpi's tamper-evident log leaf encoding (package evidence, Leaf.Bytes).

For each vector: payload hash = SHA-256("dpi-tlog-payload/v1" 0x00 || salt || payload).
A leaf without a reference is encoded as v1:
  "dpi-tlog-leaf/v1" 0x00 || u16 len(origin) || origin || u64 seq || i64 unix nanoseconds ||
  u16 len(kind) || kind || u32 len(meta) || meta || payload hash
and a leaf with one as v2, which adds u16 len(ref) || ref after the kind:
  "dpi-tlog-leaf/v2" 0x00 || ... || u16 len(kind) || kind || u16 len(ref) || ref || u32 len(meta) || ...
all big-endian; leaf hash = SHA-256(0x00 || leaf bytes) (RFC 6962 section 2.1).
"""
import hashlib
import json
import struct
import sys


def check(v):
    salt, payload, meta = (bytes.fromhex(v[k]) for k in ("saltHex", "payloadHex", "metaHex"))
    ph = hashlib.sha256(b"dpi-tlog-payload/v1\x00" + salt + payload).digest()
    origin, kind, ref = v["origin"].encode(), v["kind"].encode(), v.get("ref", "").encode()
    prefix = b"dpi-tlog-leaf/v2\x00" if ref else b"dpi-tlog-leaf/v1\x00"
    leaf = (prefix + struct.pack(">H", len(origin)) + origin
            + struct.pack(">Qq", v["seq"], v["timeUnixNano"])
            + struct.pack(">H", len(kind)) + kind
            + (struct.pack(">H", len(ref)) + ref if ref else b"")
            + struct.pack(">I", len(meta)) + meta + ph)
    lh = hashlib.sha256(b"\x00" + leaf).digest()
    return ph.hex() == v["payloadHashHex"] and leaf.hex() == v["leafBytesHex"] and lh.hex() == v["leafHashHex"]


vectors = json.load(open(sys.argv[1], encoding="utf-8"))
bad = [i for i, v in enumerate(vectors) if not check(v)]
if bad:
    print("mismatch in vectors", bad)
    sys.exit(1)
print("ok", len(vectors), "vectors")
