#!/usr/bin/env python3
"""Write the seed corpora tests/fuzz/corpus/<parser>/ from tests/data/ and
../shared/fixtures/ (run once; the output is committed, so CI needs
neither this script nor the fixtures' layout). Inputs that a target reads
with a selector byte in front (the first byte picks a file name, a
Content-Type, a policy or an entry kind: see the target) get that byte.
Existing files are kept: inputs added by a campaign (cmin'd) and the
regression inputs of fixed crashes (named crash-*) stay.

    python3 tests/fuzz/seed.py
"""
import base64
import glob
import hashlib
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "..", "shared", "fixtures")
CONF = os.path.join(FIX, "sigstore-conformance", "bundle-verify")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
MAX = 64 * 1024  # seeds stay small: libFuzzer's -max_len is set to 64 KiB


def put(parser, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX:
        return
    d = os.path.join(OUT, parser)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def files(*patterns):
    out = []
    for p in patterns:
        out += sorted(glob.glob(os.path.join(ROOT, p)))
    return [f for f in out if os.path.isfile(f)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def fixture_files(*patterns):
    out = []
    for p in patterns:
        out += sorted(glob.glob(os.path.join(FIX, p)))
    return [f for f in out if os.path.isfile(f)]


def bundles():
    """(path, parsed) of every Sigstore bundle the tree and fixtures hold."""
    out = []
    ours = [f for f in sorted(glob.glob(os.path.join(
                ROOT, "tests/data/bundles/**/*.json"), recursive=True))
            if "/bundles/image/" not in f and
            not f.endswith("/trusted_root.json")]
    for f in ours + fixture_files(
            "sigstore-conformance/bundle-verify/*/bundle.sigstore.json"):
        raw = read(f)
        if raw.startswith(b"# error:"):
            raw = raw.split(b"\n", 1)[1]
        try:
            out.append((f, raw, json.loads(raw)))
        except ValueError:
            out.append((f, raw, None))
    return out


def b64(s):
    return base64.b64decode(s + "=" * (-len(s) % 4))


def body(path):
    """A test file without its leading "# error: ..." line (the expected
    message of a bad case: not part of a JSON input)."""
    raw = read(path)
    if raw.startswith(b"# error:"):
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


def simple():
    for f in files("tests/data/yaml/*/*", "tests/data/manifests/*/*.yaml"):
        put("yaml", read(f))
    for f in files("tests/data/manifests/*/*"):
        sel = b"\x01" if f.endswith(".json") else b"\x00"
        put("manifest", sel + read(f))
    for f in files("tests/data/config/*/*"):
        put("config", read(f))
    for f in files("tests/data/policy/*/*.yaml"):
        put("policy", read(f))
    for f in files("tests/data/cosign/*/*"):
        put("cosign_payload", body(f))
    for f in files("tests/data/dsse/*/envelope-*", "tests/data/dsse/bad/*"):
        put("dsse", body(f))
    for f in files("tests/data/bundles/good/*.sigstore.json"):
        env = json.loads(body(f)).get("dsseEnvelope")
        if env:
            put("dsse", json.dumps(env, indent=1))
    for f in files("tests/data/dsse/*/statement-*",
                   "tests/data/provenance/good/*.json",
                   "tests/data/vuln/good/*.json"):
        put("intoto", body(f))
    for kind in ("sbom", "vuln", "provenance"):
        for f in files("tests/data/%s/*/*.json" % kind):
            put(kind, body(f))
    for i, f in enumerate(files("tests/data/registry/*/*",
                                "tests/data/bundles/image/manifest.json")):
        put("oci_manifest", bytes([i % 6]) + read(f))
    for f in fixture_files("containers-image/*/manifest.json"):
        put("oci_manifest", b"\x03" + read(f))


# The key-signed bundles of tests/data/bundles/rekor2 (its README).
REKOR2_KEY = ("cosign-sign-", "checkpoint-witness-first", "entry-other-key",
              "key-no-timestamp", "checkpoint-p256-", "checkpoint-only-witness")


def bundle_selector(f):
    """fuzz_bundle's first byte: the policy (low seven bits, modulo 5),
    0x80 for a keyless artifact given as bytes."""
    if "/tests/data/bundles/rekor2/" in f:
        key = os.path.basename(f).startswith(REKOR2_KEY)
        return 4 if key else 3 | 0x80
    if "tests/data/bundles/good" in f or "untrusted" in f:
        return 2
    return (1 if "rekor2" in f else 0) | 0x80


def sigstore():
    for f, raw, doc in bundles():
        put("bundle", bytes([bundle_selector(f)]) + raw)
        if not isinstance(doc, dict):
            continue
        vm = doc.get("verificationMaterial") or {}
        certs = []
        if isinstance(vm.get("certificate"), dict):
            certs = [vm["certificate"].get("rawBytes", "")]
        chain = (vm.get("x509CertificateChain") or {}).get("certificates")
        if isinstance(chain, list):
            certs = [c.get("rawBytes", "") for c in chain if isinstance(c, dict)]
        try:
            if certs:
                put("x509", b"\x00" + b"".join(b64(c) for c in certs))
        except Exception:
            pass
        for e in vm.get("tlogEntries") or []:
            if not isinstance(e, dict):
                continue
            kv = e.get("kindVersion") or {}
            kinds = [("hashedrekord", "0.0.1"), ("hashedrekord", "0.0.2"),
                     ("dsse", "0.0.1"), ("intoto", "0.0.2")]
            k = (kv.get("kind"), kv.get("version"))
            if k == ("dsse", "0.0.2"):
                sel = 0x10
            else:  # an unknown kind: the body's own kind may still be known
                sel = kinds.index(k) if k in kinds else 0
            dsse = 4 if "dsseEnvelope" in doc else 0
            leaf = 8 if certs else 0
            try:
                put("rekor_body", bytes([sel | dsse | leaf]) +
                    b64(e.get("canonicalizedBody", "")))
            except Exception:
                pass
            cp = ((e.get("inclusionProof") or {}).get("checkpoint") or {})
            if isinstance(cp.get("envelope"), str):
                put("checkpoint", cp["envelope"])
        ts = (vm.get("timestampVerificationData") or {}).get("rfc3161Timestamps")
        for t in ts or []:
            try:
                put("tsa", b64(t.get("signedTimestamp", "")))
            except Exception:
                pass
    for f in fixture_files("sigstore-conformance/bundle-verify/*/trusted_root.json"):
        put("trustroot", read(f))
    for f in files("tests/fuzz/material/*.pem", "tests/data/policy/good/trust/*"):
        put("trustroot", read(f))


def cosign_legacy_input(payload, ann, att=False):
    """fuzz_cosign_legacy: flags (1 rekor.required, 2 an attestation, 4
    fulcioCerts), the message and the raw signature each after a
    big-endian u16 length (an attestation's payload type before its
    payload, after a u8 length), then the annotations split at NULs."""
    sig = b64(ann.get("dev.cosignproject.cosign/signature") or "")
    cert = ann.get("dev.sigstore.cosign/certificate")
    bundle = ann.get("dev.sigstore.cosign/bundle")
    flags = (1 if bundle else 0) | (2 if att else 0) | (4 if cert else 0)
    msg = len(payload).to_bytes(2, "big") + payload
    if att:
        t = b"application/vnd.in-toto+json"
        msg = bytes([len(t)]) + t + msg
    tail = [(ann.get(k) or "").encode() for k in (
        "dev.sigstore.cosign/certificate", "dev.sigstore.cosign/chain",
        "dev.sigstore.cosign/bundle")]
    return (bytes([flags]) + msg + len(sig).to_bytes(2, "big") + sig +
            b"\0".join(tail))


def legacy():
    for f in fixture_files("containers-image/*/signature-*"):
        raw = read(f)
        try:
            doc = json.loads(raw[raw.index(b"{"):])
        except ValueError:
            continue
        ann = doc.get("annotations") or {}
        payload = b64(doc.get("payload", ""))
        put("cosign_legacy", cosign_legacy_input(payload, ann))
        put("cosign_legacy", cosign_legacy_input(payload, ann, att=True))
        put("cosign_payload", payload)
        if ann.get("dev.sigstore.cosign/certificate"):
            put("keys", b"\0" + ann["dev.sigstore.cosign/certificate"].encode())
        try:
            set_ = json.loads(ann.get("dev.sigstore.cosign/bundle") or "null")
            body = set_["Payload"]["body"]
            put("rekor_body", b"\x08" + b64(body))
        except (TypeError, KeyError, ValueError):
            pass


def keys():
    pems = files("tests/data/policy/good/keys/*", "tests/data/bundles/keys/*",
                 "tests/fuzz/material/release.pub")
    pems += fixture_files("containers-image/*.pub")
    for f in pems:
        pem = read(f)
        put("keys", b"\0" + pem)
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                             input=pem, capture_output=True).stdout
        if der:
            put("keys", b"\1" + der)


def handmade():
    for r in ["nginx", "nginx:1.25", "docker.io/library/nginx:latest",
              "ghcr.io/acme/api@sha256:" + "ab" * 32,
              "ghcr.io/acme/api:v1@sha256:" + "cd" * 32,
              "127.0.0.1:5000/a/b/c:tag", "[::1]:5000/x:y",
              "registry.example.com:65536/x", "UPPER/case", "a//b",
              "ghcr.io/acme/api@sha512:" + "ef" * 64, "localhost/x@sha256:12"]:
        put("imageref", r)
    for h in ['Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/api:pull"',
              'Basic realm="Registry Realm"',
              'Basic realm="x", Bearer realm="y",service="z"',
              'Bearer realm="a\\"b,c",scope="repository:x:pull,push"',
              'Bearer ', 'Negotiate, Bearer realm=unquoted']:
        put("www_authenticate", h)
    for h in ['</v2/r/referrers/sha256:00?n=2&last=x>; rel="next"',
              '<https://r.example/v2/_catalog?last=b&n=1>; rel=next, </x>; rel="prev"',
              '</a>; title="x;y"; rel="next"', '<', 'rel="next"']:
        put("link", h)
    put("docker_config", json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"user:pass").decode()},
        "127.0.0.1:5000": {"username": "u", "password": "p"},
        "ghcr.io": {"auth": "not base64"}}}))
    put("docker_config", '{"auths": {}, "credsStore": "desktop"}')
    put("kubeconfig", """apiVersion: v1
kind: Config
current-context: kind-test
clusters:
- name: kind-test
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: %s
contexts:
- name: kind-test
  context: {cluster: kind-test, user: admin, namespace: prod}
users:
- name: admin
  user:
    token: abc
""" % base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode())
    put("kubeconfig", """apiVersion: v1
clusters:
- {name: c, cluster: {server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true}}
contexts: [{name: kind-test, context: {cluster: c, user: u}}]
users: [{name: u, user: {username: a, password: b, client-certificate: cert.pem, client-key: key.pem}}]
""")
    put("kubeconfig", """current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: https://k}}]
users: [{name: u, user: {exec: {command: aws}}}]
""")
    key = base64.b64encode(bytes([0, 0, 0, 11]) + b"ssh-ed25519" + bytes([0, 0, 0, 32]) + bytes(range(1, 33))).decode()
    put("known_hosts", "git.example.com ssh-ed25519 %s\n" % key)
    put("known_hosts", "[127.0.0.1]:2222 ssh-ed25519 %s comment\n@revoked * ssh-rsa AAAA\n" % key)
    put("known_hosts", "|1|c2FsdHNhbHRzYWx0c2FsdHNhbHQ=|aGFzaGhhc2hoYXNoaGFzaGhhc2g= ssh-ed25519 %s\n*.example.com,!bad.example.com ssh-ed25519 %s\n@cert-authority *.example.com ssh-ed25519 %s\n" % (key, key, key))
    put("known_hosts", "# comment\n\ngit.example.com\r\n[127.0.0.1]:2222 ecdsa-sha2-nistp256 AAAAE2VjZHNh\n")
    live = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod", "managedFields": [
                {"manager": "tollgate", "operation": "Apply", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}}}}}}}},
                {"manager": "kubectl-edit", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
            "spec": {"replicas": 5, "template": {"spec": {"containers": [
                {"name": "web", "image": "ghcr.io/acme/web:evil", "ports": [{"containerPort": 8080}]}]}}}}
    put("kube_answer", b"\x00" + json.dumps({"kind": "DeploymentList", "apiVersion": "apps/v1",
                                              "metadata": {"continue": "abc", "resourceVersion": "7"},
                                              "items": [live, 3, {}]}).encode())
    put("kube_answer", b"\x01" + json.dumps(live).encode())
    # Pages for the streaming scanner: peeked identities (uid and
    # resourceVersion), an escaped key that decodes to "metadata", a
    # repeated resourceVersion, "items": null.
    peeked = dict(live, metadata=dict(live["metadata"], uid="u-1", resourceVersion="42"))
    put("kube_answer", b"\x00" + json.dumps({"kind": "DeploymentList", "metadata": {"continue": ""},
                                              "items": [peeked, {"metadata": {"name": "a", "uid": "u-2",
                                                                              "resourceVersion": "43"}}]}).encode())
    put("kube_answer", b"\x00" + b'{"items":[{"metad\\u0061ta":{"name":"x","uid":"u","resourceVersion":"1"},'
                                   b'"metadata":{"name":"y","uid":"v","resourceVersion":"2"}}],"metadata":{}}')
    put("kube_answer", b"\x00" + b'{"items":[{"metadata":{"name":"x","uid":"u","resourceVersion":"1",'
                                   b'"resourceVersion":"2"}}]}')
    put("kube_answer", b"\x00" + b'{"metadata":{"continue":"t"},"items":null}')
    put("kube_answer", b"\x07" + json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                              "message": "Internal error", "reason": "InternalError", "code": 500}).encode())
    put("kube_answer", b"\x05" + b'{"kind":"Status","message":"conflict","reason":"Conflict"}')
    put("kube_answer", b"\x02" + b"<html>Unauthorized</html>")
    put("checkpoint", "rekor.sigstore.dev - 1193050959916656506\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 rekor.sigstore.dev wNI9ajBFAiEA\n")


SYNTAX = {
    "yaml": ["---", "...", "&a", "*a", "<<:", "!!str", "!!binary", "? ", "- ",
             ": ", "|", ">-", "{", "}", "[", "]", "'", '"', "#", "1e39",
             "0x1F", ".inf", "~", "null", "true", "%YAML 1.2", "%TAG !"],
    "json": ["{", "}", "[", "]", ":", ",", '"', "\\u0000", "\\ud800",
             "1e309", "-0", "null", "true", "false", "9223372036854775808"],
}
DICTS = {"yaml": "yaml", "manifest": "yaml", "config": "yaml",
         "policy": "yaml", "kubeconfig": "yaml", "oci_manifest": "json",
         "cosign_payload": "json", "dsse": "json", "intoto": "json",
         "sbom": "json", "vuln": "json", "provenance": "json",
         "bundle": "json", "cosign_legacy": "json", "trustroot": "json",
         "rekor_body": "json", "kube_answer": "json", "docker_config": "json",
         "tuf": "json", "slim": "json", "status_prev": "json",
         "inventory": "json", "verdict_cache": "json",
         "admit": "yaml", "redact": "yaml", "desired": "json"}
ARMOUR = ["-----BEGIN ", "-----END ", "-----", "\n\n", "\r\n", "="]
EXTRA = {
    "www_authenticate": ["Bearer", "Basic", "realm=", "service=", "scope=",
                         '"', '\\"', ",", " "],
    "link": ["<", ">", ";", "rel=", '"next"', "next", ",", "title*="],
    "known_hosts": ["@revoked", "@cert-authority", "|1|", "[", "]:",
                    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "*",
                    "?", "!", ",", "#"],
    "checkpoint": ["\u2014 ", "\n\n", "rekor.sigstore.dev"],
    "kustcheck": ["@@ ", "@@! ", "units/web/", "../", "./", "//", "/",
                  "?ref=", "://", "=", "{", "|\n", "\n---\n",
                  "kustomization.yaml", "kustomization.yml", "Kustomization",
                  "resources:", "bases:", "components:", "crds:",
                  "configurations:", "patchesStrategicMerge:", "patches:",
                  "patchesJson6902:", "replacements:", "openapi:", "path:",
                  "configMapGenerator:", "secretGenerator:", "files:",
                  "envs:", "env:", "generators:", "transformers:",
                  "validators:", "helmCharts:", "apiVersion: builtin",
                  "kind: PatchTransformer", "config.kubernetes.io/function",
                  "github.com/", "git@", "https:"],
    "tuf": ["signed", "signatures", "_type", "root", "timestamp",
            "snapshot", "targets", "keys", "roles", "threshold", "keyids",
            "expires", "version", "spec_version", "consistent_snapshot",
            "meta", "hashes", "length", "keyid", "sig", "keytype", "scheme",
            "keyval", "public", "ecdsa-sha2-nistp256", "ed25519",
            "rsassa-pss-sha256", "sha256", "sha512", "delegations",
            "2030-01-01T00:00:00Z"],
    "desired": ["metadata", "annotations", "namespace",
                "tollgate.dev/source-commit", "\\\"", "\\\\", "{}", "[]"],
    "status_prev": ["units", "images", "digest", "verdict", "allowed",
                    "blocked", "warned", "commit", "objects"],
    "verdict_cache": ["pass", "fail", "warn", "waived", "skipped",
                      "allowed", "warned", "blocked", "enforce",
                      "tollgate.dev/verdict-cache/v1", "1799999990",
                      "1800000000", "-9223372036854775808",
                      "9223372036854775807", "2027-06-01T00:00:00Z"],
    "inventory": ["tollgate-inventory-web-4b5e57f6", "tollgate-system",
                  "f:data", "f:unit", "f:objects", "Apply", "tollgate",
                  "apps/v1", "v1", "Namespace", "Deployment", "prod", "web",
                  '\\"', '\\u0000', "namespace", "apiVersion", "kind",
                  "name"],
    "admit": ["NetworkPolicy", "podSelector", "policyTypes", "Ingress",
              "Egress", "securityContext", "privileged: true",
              "hostNetwork", "hostPID", "hostIPC", "hostPath",
              "runAsNonRoot", "runAsUser: 0", "allowPrivilegeEscalation",
              "capabilities", "add: [SYS_ADMIN]", "drop: [ALL]",
              "seccompProfile", "RuntimeDefault", "Unconfined",
              "containers", "initContainers", "ephemeralContainers",
              "template", "spec", "Deployment", "CronJob", "jobTemplate",
              "Pod", "namespace: shop", "\x00"],
    "redact": ["Secret", "kind: Secret", "data", "stringData", "value",
               "password", "token", "apiVersion: v1", "metadata", "name",
               "type: Opaque", "kubernetes.io/dockerconfigjson",
               ".dockerconfigjson", "\n---\n", "|", "!!binary"],
    "memo": ["tollgate drift memo 2\n", "end ", "\t", "\n",
             "apps/v1 Deployment ", "v1 ConfigMap ", "shop/web",
             "0" * 64, "1764000000", "18446744073709551615", "-1"],
    "manifest_cache": ["tollgate manifest cache 1\n", "end ", "E ", "O ",
                       "\n", ":", " ", "0 ", "4294967295",
                       "1000000", "v1", "ConfigMap", "apps/v1",
                       "Deployment", '{"apiVersion":"v1"}', "0" * 64],
    "sshsig": ARMOUR + ["-----BEGIN SSH SIGNATURE-----",
                        "-----END SSH SIGNATURE-----", "SSHSIG", "git",
                        "sha256", "sha512", "ssh-ed25519", "ssh-rsa",
                        "ecdsa-sha2-nistp256", "rsa-sha2-256",
                        "rsa-sha2-512", "sk-ssh-ed25519@openssh.com",
                        "namespaces=\"git\"", "valid-after=",
                        "valid-before=", "cert-authority", "principals=",
                        "20250101", "20991231235959Z", "*@example.com",
                        "alice@example.com", ",", "#", "\x00", "\x01",
                        "\x02"],
    "openpgp": ARMOUR + ["-----BEGIN PGP SIGNATURE-----",
                         "-----END PGP SIGNATURE-----",
                         "-----BEGIN PGP PUBLIC KEY BLOCK-----",
                         "-----END PGP PUBLIC KEY BLOCK-----",
                         "Version: ", "Comment: ", "Hash: ", b"\x00",
                         b"\x01", b"\xc2", b"\xc6", b"\x88", b"\x99",
                         b"\xb4", b"\x04\x00\x16\x08\x00", b"\x16\x04",
                         b"\x21\x09"],
    "cmssig": ARMOUR + ["-----BEGIN SIGNED MESSAGE-----",
                        "-----END SIGNED MESSAGE-----", "-----BEGIN CMS-----",
                        "-----END CMS-----", "-----BEGIN PKCS7-----",
                        "-----END PKCS7-----", "-----BEGIN CERTIFICATE-----",
                        "-----END CERTIFICATE-----", b"\x30\x82",
                        b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"],
    "watch_stream": ['"type"', '"object"', '"ADDED"', '"MODIFIED"',
                     '"DELETED"', '"BOOKMARK"', '"ERROR"', '"metadata"',
                     '"name"', '"namespace"', '"resourceVersion"',
                     '"status"', '"code"', '"reason"', '"message"', "410",
                     '"Expired"', '"managedFields"', '"generation"',
                     '"apiVersion"', '"kind"', "\n", "\r\n", "{", "}", ":",
                     ","],
}


def keys_of(v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(k, str) and len(k) < 64:
                out.add(k)
            keys_of(x, out)
    elif isinstance(v, list):
        for x in v:
            keys_of(x, out)
    elif isinstance(v, str) and v.startswith(("https://", "application/")) \
            and len(v) < 80:
        out.add(v)


def dict_escape(s):
    # libFuzzer's dictionary syntax: printable ASCII, with backslash,
    # quote and hex escapes (UTF-8 bytes for the rest).
    out = []
    for c in s if isinstance(s, bytes) else s.encode():
        if c in b'"\\':
            out.append("\\" + chr(c))
        elif 32 <= c < 127:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)



def admit():
    """fuzz_admit: a policy selector byte, then two units' files split at
    a NUL byte: the example repository's workloads and the manifests of
    tests/data, each beside a default-deny NetworkPolicy (or none)."""
    netpol = (b"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              b"metadata: {name: deny, namespace: shop}\n"
              b"spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n")
    srcs = files("examples/deploy-repo/clusters/prod/*/*.yaml",
                 "tests/data/manifests/*/*.yaml")
    for i, f in enumerate(srcs):
        put("admit", bytes([i % 2]) + read(f) + b"\0" + (netpol if i % 3 else b""))

def watch_stream():
    """fuzz_watch_stream: a byte choosing the reads (size, relevance),
    then watch events as testcluster and kube-apiserver
    send them, one JSON object per line."""
    def cm(name, rv, data=None, ns="prod", status=None):
        o = {"kind": "ConfigMap", "apiVersion": "v1",
             "metadata": {"name": name, "namespace": ns, "resourceVersion": rv,
                          "uid": "0b4c3d2e-%04d" % int(rv) if rv.isdigit() else "u",
                          "labels": {"app.kubernetes.io/managed-by": "tollgate"},
                          "managedFields": [{"manager": "tollgate", "operation": "Apply"}]},
             "data": data or {"k": "v"}}
        if status:
            o["status"] = status
        return o

    def ev(t, obj):
        return json.dumps({"type": t, "object": obj}, separators=(",", ":")) + "\n"

    def bookmark(rv):
        return ev("BOOKMARK", {"kind": "ConfigMap", "apiVersion": "v1",
                               "metadata": {"resourceVersion": rv}})

    def error(code, reason, msg):
        return ev("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": msg,
                            "reason": reason, "code": code})

    life = (ev("ADDED", cm("web", "11")) + ev("MODIFIED", cm("web", "12", {"k": "w"}))
            + ev("MODIFIED", cm("web", "13", {"k": "w"}, status={"x": 1}))
            + bookmark("20") + ev("ADDED", cm("db", "21", ns=""))
            + ev("DELETED", cm("web", "22", {"k": "w"})) + bookmark("30"))
    put("watch_stream", b"\x00" + life.encode())
    put("watch_stream", b"\x41" + life.encode())   # 1-byte reads, relevant
    put("watch_stream", b"\x07" + life.replace("\n", "\r\n").encode())
    put("watch_stream", b"\x40" + (ev("ADDED", cm("web", "11")) + "\n\n"
                                   + error(410, "Expired", "too old resource version: 5 (9)")
                                   + ev("ADDED", cm("late", "12"))).encode())
    put("watch_stream", b"\x03" + error(500, "InternalError", "etcd timeout").encode())
    put("watch_stream", b"\x05" + (ev("ADDED", cm("web", "11")) + '{"type":"ADDED","object":{"metadata"\n').encode())
    put("watch_stream", b"\x00" + ev("FOO", cm("web", "11")).encode())
    put("watch_stream", b"\x00" + ev("ADDED", cm("", "11")).encode())
    put("watch_stream", b"\x00" + ev("MODIFIED", cm("web", "1 1")).encode())
    put("watch_stream", b"\x00" + ev("MODIFIED", cm("web", "9" * 65)).encode())
    put("watch_stream", b"\x00" + bookmark("x" * 70).encode() + bookmark("").encode())
    put("watch_stream", b"\x00" + b'{"type":"ADDED","type":"DELETED","object":{}}\n')
    put("watch_stream", b"\x00" + b'{"type":"ADDED","object":[]}\n{"type":7,"object":{}}\n')
    put("watch_stream", b"\x02" + ev("ADDED", {"metadata": {"name": "n", "resourceVersion": "5"},
                                            "apiVersion": "evil/v9", "kind": "Secret"}).encode())


def kustcheck():
    """fuzz_kustcheck: a tree of files, units/web/kustomization.yaml first,
    then each file after a line "@@ PATH" ("@@! PATH": refused by the fs,
    as a symlink out of the tree): the kustomizations of the render tests
    and the examples, good and hostile."""
    deploy = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
              "spec:\n  template:\n    spec:\n      containers:\n"
              "        - {name: web, image: nginx}\n")

    def tree(kust, *rest):
        out = kust
        for path, text in rest:
            out += "@@ %s\n%s" % (path, text)
        put("kustcheck", out)

    dep = ("units/web/deploy.yaml", deploy)
    tree("resources: [deploy.yaml]\n", dep)
    tree("resources: [deploy.yaml, ../../base]\nnamePrefix: p-\n", dep,
         ("base/kustomization.yaml", "resources: [svc.yaml, sub]\n"),
         ("base/svc.yaml", "kind: Service\n"),
         ("base/sub/Kustomization", "resources: [../svc.yaml]\ncomponents: [../../units/web/comp]\n"),
         ("units/web/comp/kustomization.yml", "kind: Component\npatches:\n  - path: p.yaml\n"),
         ("units/web/comp/p.yaml", "kind: Deployment\n"))
    for k in ["resources: [deploy.yaml, https://example.com/x.yaml]\n",
              "resources:\n  - github.com/acme/base//deploy?ref=v1\n",
              "bases: [git@github.com:acme/base.git]\n",
              "resources: [deploy.yaml]\ncrds: [/etc/passwd]\n",
              "resources: [../../../outside]\n",
              "resources: [nothere.yaml]\n",
              "configMapGenerator:\n  - name: c\n    files: [key=../../../etc/shadow]\n",
              "configMapGenerator:\n  - name: c\n    files: [key=deploy.yaml]\n    envs: [deploy.yaml]\n    env: deploy.yaml\n",
              "secretGenerator:\n  - name: s\n    envs: [/root/.env]\n",
              "resources: [deploy.yaml]\npatches:\n  - path: https://evil.example/p.yaml\n",
              "resources: [deploy.yaml]\npatchesJson6902:\n  - target: {kind: Deployment, name: web}\n    path: /tmp/p.json\n",
              "resources: [deploy.yaml]\npatchesStrategicMerge: [../../../p.yaml, \"{kind: X}\"]\n",
              "replacements:\n  - path: ssh://h/r.yaml\n",
              "openapi: {path: /schema.json}\n",
              "components: [https://github.com/acme/c]\n",
              "helmCharts:\n  - {name: x, repo: https://charts.example}\n",
              "resources: [.]\n", "resources: [deploy.yaml/..//./deploy.yaml]\n",
              "resources: [{a: b}]\nbases: deploy.yaml\n", "- a\n---\nb: c\n",
              "generators:\n  - |\n    apiVersion: someteam.example.com/v1\n    kind: ChartInflator\n    metadata: {name: x}\n",
              "generators:\n  - |\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n    metadata: {name: x}\n    files: [deploy.yaml]\n"]:
        tree(k, dep)
    tree("resources: [deploy.yaml]\ntransformers: [fn.yaml]\n", dep,
         ("units/web/fn.yaml", "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n"
          "  name: x\n  annotations:\n    config.kubernetes.io/function: |\n"
          "      container: {image: evil.example/fn}\n"))
    tree("validators: [v.yaml]\n", ("units/web/v.yaml",
         "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: /etc/passwd\n"))
    tree("transformers: [t.yaml]\n", dep, ("units/web/t.yaml",
         "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: deploy.yaml\n"
         "---\napiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\n"))
    tree("resources: [secret.yaml, deploy.yaml]\n", dep, ("!units/web/secret.yaml", ""))
    tree("resources: [../../a]\n", ("a/kustomization.yaml", "resources: [../b]\n"),
         ("b/kustomization.yaml", "resources: [../a]\n"))
    for f in files("examples/deploy-repo/**/kustomization.yaml"):
        put("kustcheck", read(f))


def dictionaries():
    """Keywords of each format (its seeds' keys and media types, plus
    syntax) as libFuzzer dictionaries, tests/fuzz/dict/<parser>.dict."""
    try:
        import yaml
    except ImportError:
        yaml = None
    d = os.path.join(ROOT, "tests", "fuzz", "dict")
    os.makedirs(d, exist_ok=True)
    for parser in sorted(set(DICTS) | set(EXTRA)):
        words = set()
        for f in glob.glob(os.path.join(OUT, parser, "*")):
            raw = read(f)
            if raw.count(b"*") > 16:
                continue  # an alias bomb among the hostile seeds
            for cut in (0, 1):
                try:
                    text = raw[cut:].decode()
                    docs = list(yaml.safe_load_all(text)) if yaml and \
                        DICTS.get(parser) == "yaml" else [json.loads(text)]
                    for doc in docs:
                        keys_of(doc, words)
                    break
                except Exception:
                    pass
        words.discard("")
        lines = ['"%s"' % dict_escape(w) for w in sorted(words)[:400]]
        lines += ['"%s"' % dict_escape(w)
                  for w in SYNTAX.get(DICTS.get(parser), [])]
        lines += ['"%s"' % dict_escape(w) for w in EXTRA.get(parser, [])]
        with open(os.path.join(d, parser + ".dict"), "w") as f:
            f.write("# Keywords of %s inputs, made by tests/fuzz/seed.py\n"
                    % parser)
            f.write("\n".join(lines) + "\n")


def signed_commits_and_archives():
    """SSH keys, allowed_signers and signatures (a selector byte in front:
    0 keys, 1 allowed_signers, 2 a signature); OCI source layers (the
    gzip bomb is left out: over MAX, and slow on purpose); OpenPGP key
    files (0) and signatures (1); CMS signatures and roots."""
    for f in files("tests/data/sshsig/*.pub"):
        put("sshsig", b"\x00" + read(f))
    for f in files("tests/data/sshsig/allowed_signers"):
        put("sshsig", b"\x01" + read(f))
    for f in files("tests/data/sshsig/sig-*"):
        put("sshsig", b"\x02" + read(f))  # 2022-06-01: before bob's keys
        put("sshsig", b"\x52" + read(f))  # 2023-02-18: within them
    for f in files("tests/data/archive/good/*", "tests/data/archive/bad/*"):
        put("archive", read(f))
    for f in files("tests/data/openpgp/*.asc", "tests/data/openpgp/bad/keys-*"):
        put("openpgp", b"\x00" + read(f))
    for f in files("tests/data/openpgp/sig-*", "tests/data/openpgp/bad/sig-*"):
        put("openpgp", b"\x01" + read(f))
    for f in files("tests/data/cmssig/sig-*", "tests/data/cmssig/*.pem"):
        put("cmssig", read(f))


def state_and_inventories():
    """fuzz_inventory: 1 then a ConfigMap answer, or 0 then the
    data.objects text of a trusted inventory of unit web; fuzz_verdict_cache:
    1 then a cache file, or 0 then the verdict of one fresh entry;
    fuzz_manifest's imagePaths (bit 2) and rendered (bit 3) modes."""
    ids = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
            "namespace": "prod"},
           {"apiVersion": "v1", "kind": "Service", "name": "web-old",
            "namespace": "prod"},
           {"apiVersion": "v1", "kind": "Namespace", "name": "prod"},
           {"apiVersion": "rbac.authorization.k8s.io/v1beta1",
            "kind": "ClusterRole", "name": "reader"}]
    objs = json.dumps(ids, separators=(",", ":"))
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "tollgate-inventory-web-4b5e57f6",
        "namespace": "tollgate-system",
        "labels": {"app.kubernetes.io/managed-by": "tollgate",
                   "tollgate.dev/inventory": "true"},
        "annotations": {"tollgate.dev/unit": "web"},
        "managedFields": [{"manager": "tollgate", "operation": "Apply",
                           "fieldsV1": {"f:data": {"f:unit": {},
                                                   "f:objects": {}}}}]},
        "data": {"unit": "web", "hash": "sha256:" + "ab" * 32,
                 "commit": "c" * 40, "objects": objs}}
    put("inventory", b"\x01" + json.dumps(cm).encode())
    del cm["metadata"]["managedFields"]
    put("inventory", b"\x01" + json.dumps(cm).encode())
    for text in [objs, "[]",
                 '[{"apiVersion":"v1","kind":"Secret","name":"a",'
                 '"namespace":"prod","name":"db"}]',
                 '[{"apiVersion":"v1","name":"web","namespace":"prod"}]',
                 '[{"apiVersion":"v1","kind":"Namespace","name":"prod",'
                 '"namespace":5}]',
                 '[{"apiVersion":"v1","kind":"Service","name":"web",'
                 '"namespace":"prod","extra":1}]',
                 '{"apiVersion":"v1"}', '["v1/Service/web"]']:
        put("inventory", b"\x00" + text.encode())

    check = {"name": "signature", "result": "pass", "reasons": [],
             "notes": ["signed by release.pub"],
             "evidence": {"keyid": "release"},
             "validUntil": {"time": "2027-06-01T00:00:00Z",
                            "reason": "certificate expires"}}
    verdict = {"image": "ghcr.io/acme/web:1.0", "name": "ghcr.io/acme/web",
               "digest": "sha256:" + "00" * 32, "verdict": "allowed",
               "rule": "prod", "mode": "enforce",
               "checks": [check, {"name": "vulnerabilities", "result": "fail",
                                  "reasons": ["CVE-2026-1 critical"],
                                  "notes": [], "evidence": {}}],
               "platforms": [{"digest": "sha256:" + "11" * 32,
                              "platform": "linux/amd64"}],
               "verifiedAt": "2026-12-05T00:00:00Z",
               "validUntil": "2027-06-01T00:00:00Z"}
    put("verdict_cache", b"\x00" + json.dumps(verdict).encode())
    verdict2 = dict(verdict, verdict="blocked", checks=[], platforms=None,
                    mode="warn", rule=None)
    put("verdict_cache", b"\x00" + json.dumps(verdict2).encode())
    entry = {"policyHash": "sha256:p1", "subject": "ghcr.io/acme/web@sha256:00",
             "storedAt": 1799999990, "validUntil": 1800000100,
             "verdict": verdict}
    old = dict(entry, subject="b")
    del old["validUntil"]
    cache = {"version": "tollgate.dev/verdict-cache/v1",
             "entries": [entry, dict(entry, policyHash="sha256:p2",
                                     validUntil=None), old]}
    put("verdict_cache", b"\x01" + json.dumps(cache).encode())
    put("verdict_cache", b"\x01" + json.dumps(
        dict(cache, entries=[dict(entry, storedAt=-9223372036854775807)]))
        .encode())
    put("verdict_cache", b"\x01" + json.dumps(
        dict(cache, version="tollgate.dev/verdict-cache/v0")).encode())

    rollout = (b"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n"
               b"metadata: {name: web, namespace: shop}\nspec:\n"
               b"  template:\n    spec:\n      containers:\n"
               b"        - {name: web, image: ghcr.io/acme/web:1.0}\n")
    widget = (b"apiVersion: example.com/v1\nkind: Widget\n"
              b"metadata: {name: w, namespace: shop}\nspec:\n"
              b"  image: ghcr.io/acme/widget:2\n"
              b"  images: [nginx:1.25, 'ghcr.io/acme/x@sha256:" +
              b"ab" * 32 + b"']\n  jobs:\n    - template:\n        spec:\n"
              b"          containers: [{name: j, image: busybox}]\n")
    gadget = (b"apiVersion: example.com/v1\nkind: Gadget\n"
              b"metadata: {name: g, namespace: shop}\n"
              b"spec: {image: ghcr.io/acme/gadget:1}\n")
    put("manifest", b"\x04" + rollout)
    put("manifest", b"\x04" + widget)
    put("manifest", b"\x04" + gadget)
    put("manifest", b"\x00" + gadget)
    put("manifest", b"\x08" + rollout + b"---\n" + widget + b"---\n" + gadget)
    put("manifest", b"\x0c" + rollout + b"---\n" + widget + b"---\n" + gadget)
    for f in files("tests/data/manifests/good/*.yaml")[:4]:
        put("manifest", b"\x08" + read(f))


def desired():
    """Objects as the plan hands them to the apply (fuzz_desired): with
    and without reals, members before metadata with look-alike strings,
    empty annotations, nested objects named metadata."""
    ann = {"tollgate.dev/unit": "web"}
    docs = [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "prod",
                      "labels": {"app": "web"}, "annotations": ann},
         "spec": {"replicas": 2, "template": {"metadata": {
             "annotations": {}}, "spec": {"containers": [
                 {"name": "a", "image": "r.example/web@sha256:" + "0" * 64}]}}}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "data": {"k": "\"metadata\":{\"annotations\":{", "b\\": "}]"},
         "metadata": {"name": "c", "annotations": {}}},
        {"kind": "Thing", "aaa": {"metadata": {"annotations": {"x": "}"}}},
         "metadata": {"Z": ["}"], "a": {"annotations": {}},
                      "annotations": {"q": "r"}, "namespace": "prod"},
         "spec": {"weight": 0.1, "n": [1, 2.5e300, -0.0]}},
        {"kind": "Odd", "metadata": {"namespace": 5, "annotations": {}}},
        {"kind": "Stamped", "metadata": {"annotations": {
            "tollgate.dev/source-commit": "x"}}},
        {"kind": "Nul", "metadata": {"annotations": {"a": "\u0000"}}},
    ]
    for d in docs:
        put("desired", json.dumps(d, separators=(",", ":")))
        put("desired", json.dumps(d, indent=1, sort_keys=True))


if __name__ == "__main__":
    simple()
    sigstore()
    legacy()
    keys()
    handmade()
    admit()
    watch_stream()
    kustcheck()
    signed_commits_and_archives()
    state_and_inventories()
    desired()
    dictionaries()  # last: made from the seeds above
    for d in sorted(os.listdir(OUT)):
        print("%-18s %3d seeds" % (d, len(os.listdir(os.path.join(OUT, d)))))
