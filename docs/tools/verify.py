#!/usr/bin/env python3
"""Verify an accessledger log from its NDJSON form, without accessledger.

    accessledger events --db ledger.db | python3 docs/tools/verify.py

The recipe is docs/event-format.md. Python's json.dumps with these arguments
is RFC 8785 for payloads whose numbers are integers and whose member names
are in the Basic Multilingual Plane, which holds for accessledger's events.
"""
import hashlib
import json
import sys

prev, pos = bytes(32), 0
for line in sys.stdin:
    e = json.loads(line)
    pos += 1
    if e["position"] != pos:
        sys.exit(f"broken at position {pos}: found position {e['position']}")
    if bytes.fromhex(e.pop("prevHash")) != prev:
        sys.exit(f"broken at position {pos}: prevHash is not the previous hash")
    want = bytes.fromhex(e.pop("hash"))
    canon = json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    got = hashlib.sha256(prev + canon.encode()).digest()
    if got != want:
        sys.exit(f"broken at position {pos}: hash does not match the contents")
    prev = got
print("ok", pos, prev.hex())
