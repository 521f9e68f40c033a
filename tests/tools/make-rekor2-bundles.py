#!/usr/bin/env python3
"""Write tests/data/bundles/rekor2: Sigstore v0.3 bundles whose signatures
are logged in Rekor v2 logs of our own (tile-style logs: `dsse` 0.0.2
entries, no integrated time, no signed entry timestamp, an inclusion proof
up to a checkpoint signed as a C2SP signed note) and timestamped by an
RFC 3161 authority of our own, with the trusted root that names them and
tampered variants that must fail. Run once; the output is committed and tests
never run it. Standard library and the `openssl` CLI only (OpenSSL 3):

    tests/tools/make-rekor2-bundles.py [tests/data/bundles]

Every key is made in a temporary directory and thrown away; only public
halves and certificates reach the output. Signing times are the time of the
run (the leaf certificate lives one day from then, as tests verify at the
timestamp's time, not today's).

Logs (trusted_root.json "tlogs", each with its own checkpoint key type):
  log-ed25519   Ed25519 (key ID: SHA-256(name || 0x0A || 0x01 || key)[:4])
  log-p256      ECDSA P-256 (key ID: SHA-256(DER SubjectPublicKeyInfo)[:4])
  log-p384      ECDSA P-384 (same rule)
  log-rsa       RSA 2048 (same rule as ECDSA, as Rekor v1's logs use)
The certificate authority is a root and an intermediate (P-384) issuing a
P-256 leaf for IDENTITY / ISSUER; the timestamp authority a root and a P-256
signer. See README.md in the output directory for what each bundle is.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0"
ISSUER = "https://token.actions.githubusercontent.com"
IN_TOTO = "application/vnd.in-toto+json"
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
SLSA = "https://slsa.dev/provenance/v1"
VALID_START = "2025-01-01T00:00:00Z"
LOGS = {
    "ed25519": ("https://log2026-ed.tollgate.test", "PKIX_ED25519"),
    "p256": ("https://log2026-p256.tollgate.test", "PKIX_ECDSA_P256_SHA_256"),
    "p384": ("https://log2026-p384.tollgate.test", "PKIX_ECDSA_P384_SHA_384"),
    "rsa": ("https://log2026-rsa.tollgate.test", "PKIX_RSA_PKCS1V15_2048_SHA256"),
}

TMP = tempfile.mkdtemp(prefix="rekor2-")


def b64(data):
    return base64.b64encode(data).decode()


def path(name):
    return os.path.join(TMP, name)


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True,
                          capture_output=True).stdout


def der_of(pem_file, kind="x509"):
    if kind == "x509":
        return openssl("x509", "-in", path(pem_file), "-outform", "DER")
    return openssl("pkey", "-in", path(pem_file), "-pubout", "-outform", "DER")


def genkey(name, kind):
    if kind == "ed25519":
        openssl("genpkey", "-algorithm", "ED25519", "-out", path(name))
    elif kind == "rsa":
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:2048", "-out", path(name))
    else:
        curve = {"p256": "prime256v1", "p384": "secp384r1"}[kind]
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:" + curve, "-out", path(name))


def sign(key, data, kind):
    """A signature over data: Ed25519 pure, ECDSA DER with the curve's
    hash, RSA PKCS#1 v1.5 with SHA-256."""
    with open(path("tbs"), "wb") as f:
        f.write(data)
    if kind == "ed25519":
        return openssl("pkeyutl", "-sign", "-inkey", path(key), "-rawin",
                       "-in", path("tbs"))
    md = "-sha384" if kind == "p384" else "-sha256"
    return openssl("dgst", md, "-sign", path(key), path("tbs"))


def write_ext(name, lines):
    with open(path(name), "w") as f:
        f.write("\n".join(lines) + "\n")


def make_ca(name, subject, key_kind, issuer=None, ext=None, days=3650):
    """Certificate name.pem for key name.key, self-signed or by issuer."""
    genkey(name + ".key", key_kind)
    ext = ext or ["basicConstraints=critical,CA:TRUE",
                  "keyUsage=critical,keyCertSign,cRLSign",
                  "subjectKeyIdentifier=hash"]
    write_ext(name + ".ext", ext)
    openssl("req", "-new", "-key", path(name + ".key"), "-subj", subject,
            "-out", path(name + ".csr"))
    args = ["x509", "-req", "-in", path(name + ".csr"), "-days", str(days),
            "-sha384", "-extfile", path(name + ".ext"), "-out",
            path(name + ".pem"), "-set_serial", str(int.from_bytes(
                os.urandom(8), "big"))]
    if issuer:
        args += ["-CA", path(issuer + ".pem"), "-CAkey",
                 path(issuer + ".key")]
    else:
        args += ["-signkey", path(name + ".key")]
    openssl(*args)


def make_pki():
    make_ca("fulcio-root", "/O=tollgate-test/CN=fulcio-root", "p384")
    make_ca("fulcio-int", "/O=tollgate-test/CN=fulcio-intermediate", "p384",
            "fulcio-root", ["basicConstraints=critical,CA:TRUE,pathlen:0",
                            "keyUsage=critical,keyCertSign,cRLSign",
                            "extendedKeyUsage=codeSigning",
                            "subjectKeyIdentifier=hash",
                            "authorityKeyIdentifier=keyid"])
    make_ca("leaf", "/O=tollgate-test", "p256", "fulcio-int",
            ["basicConstraints=critical,CA:FALSE",
             "keyUsage=critical,digitalSignature",
             "extendedKeyUsage=codeSigning",
             "subjectAltName=critical,URI:" + IDENTITY,
             "1.3.6.1.4.1.57264.1.1=DER:" + ISSUER.encode().hex(),
             "1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:" + ISSUER,
             "authorityKeyIdentifier=keyid"], days=1)
    make_ca("other-leaf", "/O=tollgate-test", "p256", "fulcio-int",
            ["basicConstraints=critical,CA:FALSE",
             "keyUsage=critical,digitalSignature",
             "extendedKeyUsage=codeSigning",
             "subjectAltName=critical,URI:" + IDENTITY,
             "1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:" + ISSUER], days=1)
    make_ca("tsa-root", "/O=tollgate-test/CN=tsa-root", "p384")
    make_ca("tsa", "/O=tollgate-test/CN=tsa", "p256", "tsa-root",
            ["basicConstraints=critical,CA:FALSE",
             "keyUsage=critical,digitalSignature",
             "extendedKeyUsage=critical,timeStamping"])
    genkey("release.key", "p256")
    genkey("stranger.key", "p256")
    for kind in LOGS:
        genkey("log-%s.key" % kind, kind)
    genkey("witness.key", "ed25519")


def timestamp(sig):
    """An RFC 3161 TimeStampResp over sig from our TSA."""
    with open(path("tsa.cnf"), "w") as f:
        f.write("""[tsa]
default_tsa = t
[t]
serial = %s
crypto_device = builtin
signer_cert = %s
signer_key = %s
signer_digest = sha256
default_policy = 1.3.6.1.4.1.57264.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""" % (path("tsaserial"), path("tsa.pem"), path("tsa.key")))
    if not os.path.exists(path("tsaserial")):
        with open(path("tsaserial"), "w") as f:
            f.write("01\n")
    with open(path("sig.bin"), "wb") as f:
        f.write(sig)
    openssl("ts", "-query", "-data", path("sig.bin"), "-sha256", "-cert",
            "-out", path("q.tsq"))
    return openssl("ts", "-reply", "-queryfile", path("q.tsq"), "-config",
                   path("tsa.cnf"), "-section", "t")


# ---- Merkle trees (RFC 6962 section 2.1) --------------------------------


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def mth(leaves):
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def audit_path(m, leaves):
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


# ---- Signed notes (C2SP signed-note) ------------------------------------


def note_name(kind):
    return LOGS[kind][0].split("://")[1]


def note_key_id(kind, key, name):
    spki = der_of(key, "pkey")
    if kind == "ed25519":
        return hashlib.sha256(name.encode() + b"\n\x01" + spki[-32:]).digest()
    return hashlib.sha256(spki).digest()


def sig_line(kind, key, name, text, key_id=None, corrupt=False):
    kid = key_id if key_id is not None else note_key_id(kind, key, name)[:4]
    sig = sign(key, text.encode(), kind)
    if corrupt:
        sig = sig[:-1] + bytes([sig[-1] ^ 1])
    return "\u2014 %s %s\n" % (name, b64(kid + sig))


class Log:
    """A log of our own: filler leaves, then the entries we add."""

    def __init__(self, kind):
        self.kind = kind
        self.key = "log-%s.key" % kind
        self.name = note_name(kind)
        self.leaves = [b'{"filler":%d}' % i for i in range(5)]

    def log_id(self):
        return note_key_id(self.kind, self.key, self.name)

    def add(self, body, lines=None):
        """Log body; the entry as a bundle holds it. lines(text) gives the
        signature lines of the checkpoint (default: the log's own)."""
        self.leaves.append(body)
        index, size = len(self.leaves) - 1, len(self.leaves)
        root = mth(self.leaves)
        text = "%s\n%d\n%s\n" % (self.name, size, b64(root))
        sigs = lines(self, text) if lines else sig_line(
            self.kind, self.key, self.name, text)
        kind, version = json.loads(body)["kind"], json.loads(body)["apiVersion"]
        return {
            "logIndex": str(index),
            "logId": {"keyId": b64(self.log_id())},
            "kindVersion": {"kind": kind, "version": version},
            "inclusionProof": {
                "logIndex": str(index),
                "rootHash": b64(root),
                "treeSize": str(size),
                "hashes": [b64(h) for h in audit_path(index, self.leaves)],
                "checkpoint": {"envelope": text + "\n" + sigs},
            },
            "canonicalizedBody": b64(body),
        }


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def pae(payload_type, payload):
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(),
                                    len(payload), payload)


def statement(digest_hex, predicate_type, predicate):
    return canonical({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact", "digest": {"sha256": digest_hex}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })


def verifier(keyless, key_name):
    if keyless:
        return {"keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "x509Certificate": {"rawBytes": b64(der_of(key_name))}}
    return {"keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "publicKey": {"rawBytes": b64(der_of(key_name, "pkey"))}}


def dsse_body(payload, sig, ver, nsigs=1, alg="SHA2_256"):
    sigs = [{"content": b64(sig), "verifier": ver}] * nsigs
    return canonical({"apiVersion": "0.0.2", "kind": "dsse", "spec": {
        "dsseV002": {
            "payloadHash": {"algorithm": alg,
                            "digest": b64(hashlib.sha256(payload).digest())},
            "signatures": sigs}}})


def bundle(material, payload, sig, entry, tsr):
    vm = dict(material)
    vm["tlogEntries"] = [entry]
    if tsr is not None:
        vm["timestampVerificationData"] = {
            "rfc3161Timestamps": [{"signedTimestamp": b64(tsr)}]}
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": vm,
        "dsseEnvelope": {"payload": b64(payload), "payloadType": IN_TOTO,
                         "signatures": [{"sig": b64(sig), "keyid": ""}]},
    }


def trusted_root():
    def ca(certs, uri):
        return {"subject": {"organization": "tollgate-test",
                            "commonName": uri.split("://")[1]},
                "uri": uri,
                "certChain": {"certificates": [
                    {"rawBytes": b64(der_of(c))} for c in certs]},
                "validFor": {"start": VALID_START}}
    tlogs = []
    for kind, (url, details) in LOGS.items():
        log = Log(kind)
        tlogs.append({"baseUrl": url, "hashAlgorithm": "SHA2_256",
                      "publicKey": {"rawBytes": b64(der_of(log.key, "pkey")),
                                    "keyDetails": details,
                                    "validFor": {"start": VALID_START}},
                      "logId": {"keyId": b64(log.log_id())}})
    return {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": tlogs,
            "certificateAuthorities": [ca(["fulcio-int.pem", "fulcio-root.pem"],
                                          "https://fulcio.tollgate.test")],
            "ctlogs": [],
            "timestampAuthorities": [ca(["tsa.pem", "tsa-root.pem"],
                                        "https://tsa.tollgate.test")]}


class Signer:
    """One signed DSSE envelope: keyless (leaf certificate) or a key."""

    def __init__(self, keyless, digest_hex, predicate_type, predicate):
        self.keyless = keyless
        self.key = "leaf.key" if keyless else "release.key"
        self.cert = "leaf.pem" if keyless else "release.key"
        self.payload = statement(digest_hex, predicate_type, predicate)
        self.sig = sign(self.key, pae(IN_TOTO, self.payload), "p256")
        self.material = ({"certificate": {"rawBytes": b64(der_of("leaf.pem"))}}
                         if keyless else {"publicKey": {"hint": "release"}})

    def ver(self, other=False):
        if self.keyless:
            return verifier(True, "other-leaf.pem" if other else "leaf.pem")
        return verifier(False, "stranger.key" if other else "release.key")

    def make(self, log, body=None, tsr=True, payload=None, lines=None):
        body = body or dsse_body(self.payload, self.sig, self.ver())
        entry = log.add(body, lines)
        stamp = timestamp(self.sig) if tsr is True else tsr
        return bundle(self.material, payload or self.payload, self.sig,
                      entry, stamp)


def lines_witness_first(log, text):
    w = sig_line("ed25519", "witness.key", "witness.tollgate.test", text)
    return w + sig_line(log.kind, log.key, log.name, text)


def lines_extra_key_same_name(log, text):
    # Another key under the log's name: its key ID differs, so it is
    # someone else's signature and must be ignored.
    return (sig_line("ed25519", "witness.key", log.name, text) +
            sig_line(log.kind, log.key, log.name, text))


def lines_corrupt_then_good(log, text):
    return (sig_line(log.kind, log.key, log.name, text, corrupt=True) +
            sig_line(log.kind, log.key, log.name, text))


def lines_wrong_name(log, text):
    name = "impostor.tollgate.test"
    kid = note_key_id(log.kind, log.key, name)[:4]
    return sig_line(log.kind, log.key, name, text, key_id=kid)


def lines_spki_key_id(log, text):
    kid = hashlib.sha256(der_of(log.key, "pkey")).digest()[:4]
    return sig_line(log.kind, log.key, log.name, text, key_id=kid)


def lines_ed_rule_key_id(log, text):
    kid = hashlib.sha256(log.name.encode() + b"\n\x01" +
                         der_of(log.key, "pkey")).digest()[:4]
    return sig_line(log.kind, log.key, log.name, text, key_id=kid)


def lines_only_witness(log, text):
    return sig_line("ed25519", "witness.key", "witness.tollgate.test", text)


def write(out, name, doc):
    with open(os.path.join(out, name), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "tests/data/bundles"
    out = os.path.join(top, "rekor2")
    for d in ("", "good", "bad", "keys"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    make_pki()
    art = b"tollgate Rekor v2 test artifact\n"
    with open(os.path.join(out, "artifact.txt"), "wb") as f:
        f.write(art)
    with open(os.path.join(top, "image", "manifest.json"), "rb") as f:
        image = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(out, "image-digest"), "w") as f:
        f.write("sha256:%s\n" % image)
    for k in ("release", "stranger"):
        with open(os.path.join(out, "keys", k + ".pub"), "wb") as f:
            f.write(openssl("pkey", "-in", path(k + ".key"), "-pubout"))
    write(out, "trusted_root.json", trusted_root())
    logs = {k: Log(k) for k in LOGS}
    att = Signer(True, hashlib.sha256(art).hexdigest(), SLSA,
                 {"buildDefinition": {"buildType": "https://tollgate.test/build"}})
    cos = Signer(False, image, SIGN_PREDICATE, {})
    g = lambda n, d: write(out, "good/" + n, d)
    b = lambda n, d: write(out, "bad/" + n, d)
    g("attestation-ed25519.json", att.make(logs["ed25519"]))
    for kind in LOGS:
        g("cosign-sign-%s.json" % kind, cos.make(logs[kind]))
    g("checkpoint-witness-first.json",
      cos.make(logs["ed25519"], lines=lines_witness_first))
    g("checkpoint-extra-key-same-name.json",
      att.make(logs["p256"], lines=lines_extra_key_same_name))
    # Tampered entries, each logged with a valid proof and checkpoint.
    other = Signer(True, hashlib.sha256(b"other").hexdigest(), SLSA, {})
    b("payload-hash-mismatch.json", att.make(logs["ed25519"], dsse_body(
        other.payload, att.sig, att.ver())))
    b("entry-signature-mismatch.json", att.make(logs["ed25519"], dsse_body(
        att.payload, other.sig, att.ver())))
    b("entry-other-certificate.json", att.make(logs["ed25519"], dsse_body(
        att.payload, att.sig, att.ver(other=True))))
    b("entry-other-key.json", cos.make(logs["ed25519"], dsse_body(
        cos.payload, cos.sig, cos.ver(other=True))))
    b("entry-two-signatures.json", att.make(logs["ed25519"], dsse_body(
        att.payload, att.sig, att.ver(), nsigs=2)))
    b("entry-sha384-payload-hash.json", att.make(logs["ed25519"], dsse_body(
        att.payload, att.sig, att.ver(), alg="SHA2_384")))
    tampered = att.payload.replace(b"tollgate.test/build", b"evil.test/build")
    b("statement-tampered.json", att.make(logs["ed25519"], dsse_body(
        tampered, att.sig, att.ver()), payload=tampered))
    b("no-timestamp.json", att.make(logs["ed25519"], tsr=None))
    b("key-no-timestamp.json", cos.make(logs["p256"], tsr=None))
    b("timestamp-other-signature.json",
      att.make(logs["ed25519"], tsr=timestamp(other.sig)))
    b("checkpoint-corrupt-log-signature.json",
      att.make(logs["ed25519"], lines=lines_corrupt_then_good))
    b("checkpoint-wrong-name.json",
      att.make(logs["ed25519"], lines=lines_wrong_name))
    b("checkpoint-p256-wrong-name.json",
      cos.make(logs["p256"], lines=lines_wrong_name))
    b("checkpoint-ed25519-spki-key-id.json",
      att.make(logs["ed25519"], lines=lines_spki_key_id))
    b("checkpoint-p256-ed25519-key-id.json",
      cos.make(logs["p256"], lines=lines_ed_rule_key_id))
    b("checkpoint-only-witness.json",
      cos.make(logs["p384"], lines=lines_only_witness))


if __name__ == "__main__":
    main()
