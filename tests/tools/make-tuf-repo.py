#!/usr/bin/env python3
"""Make and change a TUF repository (specification 1.0.x) for the tests of
tollgate's TUF client (tests/integration/tuf_client.sh and tuf_run.sh). Python 3 with
the `cryptography` package (Debian: python3-cryptography). Canonical JSON
is written here (OLPC, as TUF signs it), not taken from a TUF library.

    make-tuf-repo.py init DIR [--no-consistent]
        keys and root.json version 1: root threshold 2 of an Ed25519 and an
        ECDSA P-256 key; timestamp Ed25519, snapshot ECDSA P-256, targets
        RSA-PSS (2048), each threshold 1. Served files go to DIR/repo,
        keys and versions to DIR/state.
    make-tuf-repo.py publish DIR TARGET [--name NAME] [--expired ROLE]...
        new targets, snapshot and timestamp versions naming TARGET (its
        bytes) as NAME (default trusted_root.json).
    make-tuf-repo.py timestamp DIR [--expired] [--snapshot V]
        a new timestamp version only (naming snapshot version V).
    make-tuf-repo.py rotate-root DIR [--unsigned-by-old] [--version V]
                                     [--rotate-timestamp]
        root version N+1 with two new root keys, signed by the old root
        keys and the new ones (--unsigned-by-old: the new ones only);
        --version writes another version number into N+1.root.json.

Expiry: 2099-12-31 by default, 2001-01-01 for an --expired role, so tests
need no clock. Key IDs are the SHA-256 of the key's canonical JSON.
"""
import argparse
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

FUTURE = "2099-12-31T00:00:00Z"
PAST = "2001-01-01T00:00:00Z"


def canonical(v):
    """OLPC canonical JSON: sorted keys, no whitespace, only '"' and '\\'
    escaped in strings, integers only."""
    if isinstance(v, bool):
        return b"true" if v else b"false"
    if v is None:
        return b"null"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, str):
        return b'"' + v.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'
    if isinstance(v, list):
        return b"[" + b",".join(canonical(x) for x in v) + b"]"
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode())
        return b"{" + b",".join(canonical(k) + b":" + canonical(x) for k, x in items) + b"}"
    raise TypeError("no canonical form for %r" % (v,))


def pem_public(priv):
    return priv.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def new_key(kind):
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_kind(priv):
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        return "ecdsa"
    return "rsa"


def key_json(priv):
    kind = key_kind(priv)
    if kind == "ed25519":
        raw = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
        return {"keytype": "ed25519", "scheme": "ed25519",
                "keyval": {"public": raw.hex()}}
    if kind == "ecdsa":
        return {"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256",
                "keyval": {"public": pem_public(priv)}}
    return {"keytype": "rsa", "scheme": "rsassa-pss-sha256",
            "keyval": {"public": pem_public(priv)}}


def key_id(priv):
    return hashlib.sha256(canonical(key_json(priv))).hexdigest()


def sign(priv, data):
    kind = key_kind(priv)
    if kind == "ed25519":
        return priv.sign(data).hex()
    if kind == "ecdsa":
        return priv.sign(data, ec.ECDSA(hashes.SHA256())).hex()
    return priv.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                       salt_length=32),
                     hashes.SHA256()).hex()


class Repo:
    def __init__(self, d):
        self.dir = d
        self.repo = os.path.join(d, "repo")
        self.statedir = os.path.join(d, "state")
        path = os.path.join(self.statedir, "state.json")
        self.state = json.load(open(path)) if os.path.exists(path) else {}
        self.keys = {}
        for name in self.state.get("keys", []):
            with open(os.path.join(self.statedir, name + ".pem"), "rb") as f:
                self.keys[name] = serialization.load_pem_private_key(f.read(), None)

    def add_key(self, name, kind):
        priv = new_key(kind)
        with open(os.path.join(self.statedir, name + ".pem"), "wb") as f:
            f.write(priv.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        self.keys[name] = priv
        self.state.setdefault("keys", []).append(name)
        return name

    def save(self):
        with open(os.path.join(self.statedir, "state.json"), "w") as f:
            json.dump(self.state, f, indent=1)

    def write(self, name, signed, signers):
        c = canonical(signed)
        doc = {"signed": signed,
               "signatures": [{"keyid": key_id(self.keys[k]),
                               "sig": sign(self.keys[k], c)} for k in signers]}
        data = json.dumps(doc, indent=1).encode()
        with open(os.path.join(self.repo, name), "wb") as f:
            f.write(data)
        return data

    def root_signed(self, version, expires=FUTURE):
        roles = self.state["roles"]
        keys = {}
        for names in roles.values():
            for n in names:
                keys[key_id(self.keys[n])] = key_json(self.keys[n])
        return {"_type": "root", "spec_version": "1.0.31", "version": version,
                "expires": expires,
                "consistent_snapshot": self.state["consistent"], "keys": keys,
                "roles": {r: {"keyids": [key_id(self.keys[n]) for n in names],
                              "threshold": 2 if r == "root" else 1}
                          for r, names in roles.items()}}

    def meta_name(self, role, version):
        if self.state["consistent"]:
            return "%d.%s.json" % (version, role)
        return role + ".json"

    def timestamp(self, expired=False, snap=None):
        snap = snap or self.state["snapshot"]
        self.state["timestamp"] = self.state.get("timestamp", 0) + 1
        data = open(os.path.join(self.repo, self.meta_name("snapshot", snap)), "rb").read()
        self.write("timestamp.json", {
            "_type": "timestamp", "spec_version": "1.0.31",
            "version": self.state["timestamp"],
            "expires": PAST if expired else FUTURE,
            "meta": {"snapshot.json": {
                "version": snap, "length": len(data),
                "hashes": {"sha256": hashlib.sha256(data).hexdigest()}}}},
            self.state["roles"]["timestamp"])


def cmd_init(a):
    os.makedirs(os.path.join(a.dir, "repo", "targets"))
    os.makedirs(os.path.join(a.dir, "state"))
    r = Repo(a.dir)
    r.state["consistent"] = not a.no_consistent
    r.state["roles"] = {
        "root": [r.add_key("root-a1", "ed25519"), r.add_key("root-b1", "ecdsa")],
        "timestamp": [r.add_key("timestamp1", "ed25519")],
        "snapshot": [r.add_key("snapshot1", "ecdsa")],
        "targets": [r.add_key("targets1", "rsa")],
    }
    r.state["root"] = 1
    r.write("1.root.json", r.root_signed(1), r.state["roles"]["root"])
    r.save()


def cmd_publish(a):
    r = Repo(a.dir)
    data = open(a.target, "rb").read()
    exp = lambda role: PAST if role in (a.expired or []) else FUTURE
    r.state["targets"] = r.state.get("targets", 0) + 1
    r.state["snapshot"] = r.state.get("snapshot", 0) + 1
    h256 = hashlib.sha256(data).hexdigest()
    name = a.name
    tfile = (h256 + "." + name) if r.state["consistent"] else name
    with open(os.path.join(r.repo, "targets", tfile), "wb") as f:
        f.write(data)
    r.write(r.meta_name("targets", r.state["targets"]), {
        "_type": "targets", "spec_version": "1.0.31",
        "version": r.state["targets"], "expires": exp("targets"),
        "targets": {name: {"length": len(data), "hashes": {
            "sha256": h256, "sha512": hashlib.sha512(data).hexdigest()}}}},
        r.state["roles"]["targets"])
    r.write(r.meta_name("snapshot", r.state["snapshot"]), {
        "_type": "snapshot", "spec_version": "1.0.31",
        "version": r.state["snapshot"], "expires": exp("snapshot"),
        "meta": {"targets.json": {"version": r.state["targets"]}}},
        r.state["roles"]["snapshot"])
    r.timestamp("timestamp" in (a.expired or []))
    r.save()


def cmd_timestamp(a):
    r = Repo(a.dir)
    r.timestamp(a.expired, a.snapshot)
    r.save()


def cmd_rotate_root(a):
    r = Repo(a.dir)
    old = list(r.state["roles"]["root"])
    n = r.state["root"] + 1
    new = [r.add_key("root-a%d" % n, "ed25519"), r.add_key("root-b%d" % n, "ecdsa")]
    r.state["roles"]["root"] = new
    if a.rotate_timestamp:
        r.state["roles"]["timestamp"] = [r.add_key("timestamp%d" % n, "ed25519")]
    signers = new if a.unsigned_by_old else old + new
    r.write("%d.root.json" % n, r.root_signed(a.version or n), signers)
    r.state["root"] = n
    r.save()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("init")
    s.add_argument("dir")
    s.add_argument("--no-consistent", action="store_true")
    s.set_defaults(fn=cmd_init)
    s = sub.add_parser("publish")
    s.add_argument("dir")
    s.add_argument("target")
    s.add_argument("--name", default="trusted_root.json")
    s.add_argument("--expired", action="append",
                   choices=["timestamp", "snapshot", "targets"])
    s.set_defaults(fn=cmd_publish)
    s = sub.add_parser("timestamp")
    s.add_argument("dir")
    s.add_argument("--expired", action="store_true")
    s.add_argument("--snapshot", type=int,
                   help="name this snapshot version (a rollback attempt)")
    s.set_defaults(fn=cmd_timestamp)
    s = sub.add_parser("rotate-root")
    s.add_argument("dir")
    s.add_argument("--unsigned-by-old", action="store_true")
    s.add_argument("--version", type=int)
    s.add_argument("--rotate-timestamp", action="store_true")
    s.set_defaults(fn=cmd_rotate_root)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
