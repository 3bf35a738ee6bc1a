#!/usr/bin/env python3
"""Independent check of dpi's tamper-evident log leaf encoding (internal/tlog, Leaf.Bytes).

For each vector: payload hash = SHA-256("dpi-tlog-payload/v1" 0x00 || salt || payload);
leaf bytes = "dpi-tlog-leaf/v1" 0x00 || u16 len(origin) || origin || u64 seq ||
i64 unix nanoseconds || u16 len(kind) || kind || u32 len(meta) || meta || payload hash,
all big-endian; leaf hash = SHA-256(0x00 || leaf bytes) (RFC 6962 section 2.1).
"""
import hashlib
import json
import struct
import sys


def check(v):
    salt, payload, meta = (bytes.fromhex(v[k]) for k in ("saltHex", "payloadHex", "metaHex"))
    ph = hashlib.sha256(b"dpi-tlog-payload/v1\x00" + salt + payload).digest()
    origin, kind = v["origin"].encode(), v["kind"].encode()
    leaf = (b"dpi-tlog-leaf/v1\x00" + struct.pack(">H", len(origin)) + origin
            + struct.pack(">Qq", v["seq"], v["timeUnixNano"])
            + struct.pack(">H", len(kind)) + kind
            + struct.pack(">I", len(meta)) + meta + ph)
    lh = hashlib.sha256(b"\x00" + leaf).digest()
    return ph.hex() == v["payloadHashHex"] and leaf.hex() == v["leafBytesHex"] and lh.hex() == v["leafHashHex"]


vectors = json.load(open(sys.argv[1]))
bad = [i for i, v in enumerate(vectors) if not check(v)]
if bad:
    print("mismatch in vectors", bad)
    sys.exit(1)
print("ok", len(vectors), "vectors")
