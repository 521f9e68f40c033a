#!/usr/bin/env python3
"""Hostile OpenPGP inputs for tests/unit/test_openpgp.c, derived from the
real GnuPG keys and signatures made by gen_openpgp.sh: damaged armour,
wrong packet lengths, unknown algorithms, a bad self-signature, a
signing subkey without its back-signature. Usage: pgp_mutate.py DIR
(reads DIR/*.asc and DIR/sig-*, writes DIR/bad/)."""
import base64
import os
import sys


def crc24(data):
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def dearmour(text):
    lines = text.strip().split("\n")
    label = lines[0][len("-----BEGIN "):-5]
    body = [l for l in lines[1:-1] if l and ":" not in l and not l.startswith("=")]
    return label, base64.b64decode("".join(body))


def armour(label, data, crc=None):
    b64 = base64.b64encode(data).decode()
    rows = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    c = crc24(data) if crc is None else crc
    ck = base64.b64encode(c.to_bytes(3, "big")).decode()
    return "-----BEGIN %s-----\n\n%s=%s\n-----END %s-----\n" % (
        label, "".join(r + "\n" for r in rows), ck, label)


def packets(data):
    """[(tag, body)] of old or new format packets (no partial lengths)."""
    out, i = [], 0
    while i < len(data):
        b = data[i]
        i += 1
        if b & 0x40:
            tag = b & 0x3F
            o1 = data[i]
            i += 1
            if o1 < 192:
                n = o1
            elif o1 < 224:
                n = ((o1 - 192) << 8) + data[i] + 192
                i += 1
            else:
                n = int.from_bytes(data[i + 1:i + 5], "big")
                i += 5 if o1 == 255 else 0
        else:
            tag, lt = (b >> 2) & 0xF, b & 3
            w = [1, 2, 4][lt]
            n = int.from_bytes(data[i:i + w], "big")
            i += w
        out.append((tag, bytearray(data[i:i + n])))
        i += n
    return out


def hdr(tag, n):
    if n < 192:
        return bytes([0xC0 | tag, n])
    if n < 8384:
        n -= 192
        return bytes([0xC0 | tag, (n >> 8) + 192, n & 0xFF])
    return bytes([0xC0 | tag, 255]) + n.to_bytes(4, "big")


def join(pkts):
    return b"".join(hdr(t, len(b)) + bytes(b) for t, b in pkts)


def sig_fields(body):
    """Offsets in a v4 signature body: (hashed_end, unhashed_start,
    unhashed_end)."""
    hl = int.from_bytes(body[4:6], "big")
    he = 6 + hl
    ul = int.from_bytes(body[he:he + 2], "big")
    return he, he + 2, he + 2 + ul


def drop_subpacket(body, stype):
    """Remove subpackets of type stype from the unhashed area."""
    he, us, ue = sig_fields(body)
    area, out, i = body[us:ue], bytearray(), 0
    while i < len(area):
        o1 = area[i]
        if o1 < 192:
            n, w = o1, 1
        elif o1 < 255:
            n, w = ((o1 - 192) << 8) + area[i + 1] + 192, 2
        else:
            n, w = int.from_bytes(area[i + 1:i + 5], "big"), 5
        if area[i + w] & 0x7F != stype:
            out += area[i:i + w + n]
        i += w + n
    return body[:he] + len(out).to_bytes(2, "big") + out + body[ue:]


def main(d):
    bad = os.path.join(d, "bad")
    os.makedirs(bad, exist_ok=True)

    def rd(name):
        with open(os.path.join(d, name)) as f:
            return f.read()

    def wr(name, text):
        with open(os.path.join(bad, name), "w") as f:
            f.write(text)

    sig_text = rd("sig-alice")
    label, sig = dearmour(sig_text)
    (tag, body), = packets(sig)
    lines = sig_text.split("\n")
    wr("sig-truncated", "\n".join(lines[:3]) + "\n")
    wr("sig-crc", armour(label, sig, crc24(sig) ^ 1))
    wr("sig-base64", sig_text.replace(lines[2][:4], lines[2][:3] + "*", 1))
    wr("sig-len-long", armour(label, hdr(tag, len(body) + 7) + body))
    wr("sig-len-short", armour(label, hdr(tag, len(body) - 5) + body))
    wr("sig-partial", armour(label, bytes([0xC2, 0xE5]) + body))
    wr("sig-indeterminate", armour(label, bytes([0x8B]) + body))
    wr("sig-two", armour(label, sig + sig))
    wr("sig-after", sig_text + "-----BEGIN PGP SIGNATURE-----\n")
    b = bytearray(body)
    b[0] = 3
    wr("sig-v3", armour(label, join([(2, b)])))
    b = bytearray(body)
    b[2] = 99
    wr("sig-unknown-alg", armour(label, join([(2, b)])))
    b = bytearray(body)
    b[3] = 99
    wr("sig-unknown-hash", armour(label, join([(2, b)])))
    b = bytearray(body)
    b[1] = 0x01
    wr("sig-type-text", armour(label, join([(2, b)])))
    # a critical subpacket 100 added to the hashed area
    he, us, ue = sig_fields(body)
    hl = int.from_bytes(body[4:6], "big") + 3
    b = body[:4] + hl.to_bytes(2, "big") + body[6:he] + bytes([2, 0x80 | 100, 0]) + body[he:]
    wr("sig-critical", armour(label, join([(2, b)])))
    # the first MPI's bit count at its maximum: ETOOBIG before reading
    b = bytearray(body)
    b[ue + 2:ue + 4] = b"\xff\xff"
    wr("sig-mpi-huge", armour(label, join([(2, b)])))
    wr("sig-empty", armour(label, b""))

    klabel, keys = dearmour(rd("alice.asc"))
    pk = packets(keys)
    # flip a byte of the user ID self-signature's last MPI: the hash
    # prefix still matches, the signature does not
    for i, (t, b) in enumerate(pk):
        if t == 2 and b[1] == 0x13:
            b[-3] ^= 0x40
            break
    wr("keys-bad-selfsig.asc", armour(klabel, join(pk)))
    pk = packets(keys)
    wr("keys-no-uid.asc", armour(klabel, join([p for p in pk if p[0] != 13])))
    pk = packets(keys)
    pk[0][1][0] = 5
    wr("keys-v5.asc", armour(klabel, join(pk)))
    wr("keys-crc.asc", armour(klabel, keys, crc24(keys) ^ 0x100))
    wr("keys-truncated.asc", rd("alice.asc")[:200])
    wr("keys-private.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
       "AAAA\n-----END PGP PRIVATE KEY BLOCK-----\n" + rd("alice.asc"))
    # a uid packet before any key
    wr("keys-orphan.asc", armour(klabel, join([p for p in packets(keys)
                                               if p[0] == 13]) + keys))
    _, gk = dearmour(rd("gina.asc"))
    pk = packets(gk)
    for t, b in pk:
        if t == 2 and b[1] == 0x18:
            b[:] = drop_subpacket(b, 32)
    wr("keys-no-backsig.asc", armour(klabel, join(pk)))


if __name__ == "__main__":
    main(sys.argv[1])
