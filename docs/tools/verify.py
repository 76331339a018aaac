#!/usr/bin/env python3
"""Verify an accessledger log or report archive, without accessledger.

    accessledger events --db ledger.db | python3 docs/tools/verify.py
    python3 docs/tools/verify.py --archive report.tar.gz [--public-key KEY]

KEY is the signer's Ed25519 public key: a PEM file (as accessledger keygen
writes it) or 64 hex digits. The recipes are docs/event-format.md and
docs/archive-format.md; this file uses nothing but Python's standard library.
Python's json.dumps with these arguments is RFC 8785 for payloads whose
numbers are integers and whose member names are in the Basic Multilingual
Plane, which holds for accessledger's events.
"""
import base64
import hashlib
import json
import posixpath
import sys
import tarfile
import zlib


class Broken(Exception):
    """What fails, named by file and, for an event, by its position."""

    def __init__(self, where, reason):
        super().__init__(f"{where}: {reason}")


def canonical(e):
    return json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Chain:
    """Re-hashes events one by one, each from the previous one's hash.

    From the log's start (start=None) every stream begins at version 1; a
    stretch of a log starts after the first event's position less one and
    its prevHash, and a stream first seen in it may begin at any version."""

    def __init__(self, start=None):
        self.start = start  # (position, hash) before the first event
        self.head = start
        self.versions = {}
        self.n = 0

    def add(self, line, where):
        e = json.loads(line)
        missing = [k for k in ("hash", "prevHash", "position", "stream", "version") if not isinstance(e, dict) or k not in e]
        if missing:
            raise Broken(where, f"a line that is not an event (no {', '.join(missing)})")
        prev, pos = bytes.fromhex(e["prevHash"]), e["position"]
        if self.head is None:
            if pos < 1:
                raise Broken(where, f"line 1 has position {pos}")
            if pos == 1 and prev != bytes(32):
                raise Broken(f"{where}: event at position 1", "the log's first event has a prevHash that is not zero")
            self.start = self.head = (pos - 1, prev)
        want = self.head[0] + 1
        at = f"{where}: event at position {want}"
        if pos != want:
            raise Broken(at, f"found position {pos}: an event is missing or out of order")
        if prev != self.head[1]:
            raise Broken(at, "prevHash is not the previous event's hash")
        seen = self.versions.get(e["stream"])
        from_start = self.start[0] == 0
        if (seen is None and from_start and e["version"] != 1) or (seen is not None and e["version"] != seen + 1):
            raise Broken(at, f"stream {e['stream']} jumps to version {e['version']}")
        stored = bytes.fromhex(e.pop("hash"))
        del e["prevHash"]
        got = hashlib.sha256(prev + canonical(e)).digest()
        if got != stored:
            raise Broken(at, "hash does not match the contents")
        self.versions[e["stream"]] = e["version"]
        self.head = (pos, got)
        self.n += 1


def verify_log(lines):
    chain = Chain(start=(0, bytes(32)))
    for line in lines:
        chain.add(line, "log")
    return chain


# Ed25519 signature verification, as RFC 8032 section 6 gives it.
P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def point_add(a, b):
    A, B = (a[1] - a[0]) * (b[1] - b[0]) % P, (a[1] + a[0]) * (b[1] + b[0]) % P
    C, E = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    e, f, g, h = B - A, E - C, E + C, B + A
    return (e * f, g * h, f * g, e * h)


def point_mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = point_add(q, p)
        p = point_add(p, p)
        s >>= 1
    return q


def point_equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    return P - x if (x & 1) != sign else x


def decompress(s):
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


G_Y = 4 * pow(5, P - 2, P) % P
G = (recover_x(G_Y, 0), G_Y, 1, recover_x(G_Y, 0) * G_Y % P)


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    a, r = decompress(public), decompress(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if a is None or r is None or s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % Q
    return point_equal(point_mul(s, G), point_add(r, point_mul(h, a)))


def public_key(arg):
    if len(arg) == 64 and all(c in "0123456789abcdefABCDEF" for c in arg):
        return bytes.fromhex(arg)
    with open(arg) as f:
        lines = [l.strip() for l in f]
    if "-----BEGIN PUBLIC KEY-----" not in lines:
        raise ValueError(f"{arg} is not a PEM public key (a private key is never needed to verify)")
    der = base64.b64decode("".join(l for l in lines if l and not l.startswith("-----")))
    # An Ed25519 SubjectPublicKeyInfo: a fixed 12-byte prefix, then the key.
    if len(der) != 44 or der[:12] != bytes.fromhex("302a300506032b6570032100"):
        raise ValueError(f"{arg} is not an Ed25519 public key")
    return der[12:]


class GzipMember:
    """The tar stream of an archive: one gzip member, read to its end (where
    zlib checks its CRC and length), with nothing after it."""

    CHUNK = 1 << 16

    def __init__(self, f):
        self.f, self.d = f, zlib.decompressobj(31)
        self.buf, self.at = b"", 0
        self.pos, self.recent = 0, b""  # bytes handed out; the last of them

    def _more(self):
        """Decompresses at most CHUNK more bytes into buf; False at the end."""
        if self.d.eof:
            return False
        src = self.d.unconsumed_tail or self.f.read(self.CHUNK)
        if not src:
            raise Broken("archive", "the gzip stream is cut short")
        try:
            self.buf, self.at = self.buf[self.at:] + self.d.decompress(src, self.CHUNK), 0
        except zlib.error as e:
            raise Broken("archive", f"the gzip stream is damaged: {e}")
        if self.d.unused_data or (self.d.eof and self.f.read(1)):
            raise Broken("archive", "data follows the end of the gzip stream")
        return True

    def read(self, n):
        while len(self.buf) - self.at < n and self._more():
            pass
        out, self.at = self.buf[self.at:self.at + n], min(len(self.buf), self.at + n)
        self.pos += len(out)
        self.recent = (self.recent + out)[-65536:]
        return out

    def end(self, tar_end):
        """Checks that nothing but zeros follows tar_end, the offset of the
        tar archive's end, which tarfile may have read past already."""
        if self.pos - tar_end > len(self.recent):
            raise Broken("archive", "the tar archive's end cannot be checked")
        rest = self.recent[len(self.recent) - (self.pos - tar_end):]
        while True:
            if rest.strip(b"\0"):
                raise Broken("archive", "data follows the end of the tar archive")
            rest = self.read(self.CHUNK)
            if not rest:
                return


def verify_archive(path, key):
    found, order, manifest, sig, chain = {}, [], None, None, None
    with open(path, "rb") as raw:
        stream = GzipMember(raw)
        tar = tarfile.open(fileobj=stream, mode="r|")
        for m in tar:
            name = m.name
            if not m.isreg():
                raise Broken(name, "is not a regular file")
            if name != posixpath.normpath(name) or name.startswith("/") or name == ".." or name.startswith("../"):
                raise Broken(name, "is not a clean relative name")
            if name in found:
                raise Broken(name, "is in the archive twice")
            order.append(name)
            f = tar.extractfile(m)
            h, size = hashlib.sha256(), 0
            if name == "events.ndjson":
                chain = Chain()
                for line in f:
                    h.update(line)
                    size += len(line)
                    chain.add(line, name)
            else:
                data = f.read()
                h.update(data)
                size = len(data)
                if name == "manifest.json":
                    manifest = data
                elif name == "manifest.json.sig":
                    sig = data
            found[name] = (size, h.hexdigest())
        stream.end(tar.offset)
    if manifest is None:
        raise Broken("manifest.json", "is missing")
    mf = json.loads(manifest)
    if mf.get("format") != "accessledger-archive/1":
        raise Broken("manifest.json", f"format {mf.get('format')!r} is not accessledger-archive/1")
    if key is not None:
        if sig is None:
            raise Broken("manifest.json.sig", "is missing: the archive is not signed")
        if not ed25519_verify(key, manifest, bytes.fromhex(sig.decode().strip())):
            raise Broken("manifest.json.sig", "does not verify with the public key")
    listed = set()
    for f in mf["files"]:
        listed.add(f["name"])
        if f["name"] not in found:
            raise Broken(f["name"], "is listed in the manifest but missing from the archive")
        if found[f["name"]] != (f["size"], f["sha256"]):
            raise Broken(f["name"], "does not have the size and SHA-256 the manifest says")
    for name in order:
        if name not in listed and name not in ("manifest.json", "manifest.json.sig"):
            raise Broken(name, "is in the archive but not in the manifest")
    if chain is None or "events.ndjson" not in listed or chain.n == 0:
        raise Broken("events.ndjson", "is missing, unlisted or empty")
    start = (mf["start"]["position"], bytes.fromhex(mf["start"]["hash"]))
    head = (mf["head"]["position"], bytes.fromhex(mf["head"]["hash"]))
    if chain.start != start:
        raise Broken(f"events.ndjson: event at position {chain.start[0] + 1}", "does not follow the manifest's start")
    if chain.head != head or chain.n != mf["events"]:
        raise Broken(f"events.ndjson: event at position {chain.head[0]}", "is not the manifest's head")
    return chain, len(mf["files"])


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(allow_abbrev=False,
        description="Verify an accessledger log (NDJSON on standard input) or report archive, without accessledger.")
    ap.add_argument("--archive", help="a report archive (.tar.gz) to verify instead of a log on standard input")
    ap.add_argument("--public-key", help="the signer's Ed25519 public key (PEM file or 64 hex digits); needs --archive")
    args = ap.parse_args(argv)
    if args.public_key and not args.archive:
        ap.error("--public-key checks an archive's signature: give --archive too")
    try:
        if args.archive:
            key = public_key(args.public_key) if args.public_key else None
            chain, files = verify_archive(args.archive, key)
            signed = "signature verified" if key is not None else "signature not checked (no --public-key)"
            print(f"ok archive: events {chain.start[0] + 1}..{chain.head[0]}, head {chain.head[1].hex()}, {files} file{'' if files == 1 else 's'}, {signed}")
        else:
            chain = verify_log(sys.stdin.buffer)
            print("ok", chain.head[0], chain.head[1].hex())
    except Broken as b:
        sys.exit(f"broken: {b}")
    except (OSError, tarfile.TarError, ValueError) as e:
        sys.exit(f"cannot verify: {e}")


if __name__ == "__main__":
    main(sys.argv[1:])
