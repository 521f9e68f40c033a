#!/usr/bin/env python3
"""Write the bundles of tests/data/bundles/bad whose leaf certificate holds a
public key that OpenSSL parses as a certificate but cannot decode as a key
(X509_get0_pubkey() returns NULL): the conformance suite's happy-path bundle
with one byte of its leaf's SubjectPublicKeyInfo changed. The certificate's
signature no longer verifies, which does not matter: the key is needed before
any signature is checked. Standard library only.

    tests/tools/make-bad-leaf-bundles.py [tests/data/bundles]
"""
import base64
import json
import os
import sys

# The curve of the leaf, prime256v1 (1.2.840.10045.3.1.7), and the key
# algorithm, id-ecPublicKey (1.2.840.10045.2.1), as DER content bytes.
PRIME256V1 = bytes.fromhex("2a8648ce3d030107")
EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")


def tlv(der, off):
    """(tag, content offset, content length) of the element at off."""
    tag, first = der[off], der[off + 1]
    if first < 0x80:
        return tag, off + 2, first
    n = first & 0x7F
    length = int.from_bytes(der[off + 2:off + 2 + n], "big")
    return tag, off + 2 + n, length


def children(der, off):
    """Offsets of the elements inside the constructed element at off."""
    _, start, length = tlv(der, off)
    out, p = [], start
    while p < start + length:
        out.append(p)
        _, c, n = tlv(der, p)
        p = c + n
    return out


def spki(cert):
    """Offset of the leaf's SubjectPublicKeyInfo: TBSCertificate field 7
    (version [0], serial, signature, issuer, validity, subject, spki)."""
    tbs = children(cert, 0)[0]
    fields = children(cert, tbs)
    assert cert[fields[0]] == 0xA0, "not a v3 certificate"
    return fields[6]


def replace_once(der, start, old, new):
    """der with old (found after start) replaced by new of the same size."""
    at = der.index(old, start)
    assert len(old) == len(new)
    return der[:at] + new + der[at + len(old):]


def off_curve(cert):
    """The last byte of the point's Y coordinate flipped."""
    _, bits, n = tlv(cert, children(cert, spki(cert))[1])
    last = bits + n - 1
    return cert[:last] + bytes([cert[last] ^ 1]) + cert[last + 1:]


def unknown_curve(cert):
    """Curve 1.2.840.10045.3.1.99, which no one defines."""
    return replace_once(cert, spki(cert), PRIME256V1,
                        PRIME256V1[:-1] + b"\x63")


def unknown_algorithm(cert):
    """Key algorithm 1.2.840.10045.2.99, which no one defines."""
    return replace_once(cert, spki(cert), EC_PUBLIC_KEY,
                        EC_PUBLIC_KEY[:-1] + b"\x63")


CASES = [
    ("leaf-key-off-curve.json", off_curve),
    ("leaf-key-unknown-curve.json", unknown_curve),
    ("leaf-key-unknown-algorithm.json", unknown_algorithm),
]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/data/bundles"
    with open(os.path.join(root, "good", "happy-path-v0.3.json")) as f:
        bundle = json.load(f)
    cert = base64.b64decode(
        bundle["verificationMaterial"]["certificate"]["rawBytes"])
    for name, change in CASES:
        bad = change(cert)
        assert bad != cert and len(bad) == len(cert)
        bundle["verificationMaterial"]["certificate"]["rawBytes"] = (
            base64.b64encode(bad).decode())
        with open(os.path.join(root, "bad", name), "w") as f:
            f.write("# error: signing certificate's public key cannot be "
                    "decoded\n")
            f.write(json.dumps(bundle, indent=1) + "\n")


if __name__ == "__main__":
    main()
