#!/usr/bin/env python3
"""Make the gzip tar archives the OCI source's unpacker is tested with.

    make-archives.py OUTDIR            every case (tests/data/archive/ holds
                                       the output, committed)
    make-archives.py OUTDIR NAME...    only those cases (the integration
                                       test pushes some of them as layers)

good/*.tar.gz unpack; bad/*.tar.gz are each refused for one reason, named
in the case's comment below and asserted by tests/unit/test_archive.c.
Written with python3's tarfile and gzip, the archives are what Go's
archive/tar (flux push artifact) or GNU tar could produce, and worse.
"""
import gzip
import io
import os
import sys
import tarfile

MIB = 1024 * 1024
DEPLOY = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: default
data:
  color: blue
"""


def info(name, data=b"", kind=tarfile.REGTYPE, **kw):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.size = len(data) if kind == tarfile.REGTYPE else 0
    t.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    t.mtime = 1700000000
    for k, v in kw.items():
        setattr(t, k, v)
    return t


def tar_bytes(members, fmt=tarfile.PAX_FORMAT):
    """members: list of (TarInfo, data bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti, data in members:
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def gz(raw):
    return gzip.compress(raw, compresslevel=9, mtime=0)


def files(*pairs):
    return tar_bytes([(info(n, d), d) for n, d in pairs])


def good_flux():
    # The layout of `flux push artifact --path=./deploy`: "./"-prefixed
    # entries, directories listed, a non-manifest file beside.
    members = [
        (info("./", kind=tarfile.DIRTYPE), None),
        (info("./apps/", kind=tarfile.DIRTYPE), None),
        (info("./apps/web/", kind=tarfile.DIRTYPE), None),
        (info("./apps/web/config.yaml", DEPLOY), DEPLOY),
        (info("./apps/README.md", b"# apps\n"), b"# apps\n"),
        (info("./root.yaml", DEPLOY), DEPLOY),
    ]
    return gz(tar_bytes(members))


def bomb():
    # 33 files of 8 MiB of zeros (each under the file cap): 264 MiB
    # unpacked from about 260 KiB; the 256 MiB total cap stops it.
    zeros = bytes(8 * MIB)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9,
                       mtime=0) as g:
        with tarfile.open(fileobj=g, mode="w",
                          format=tarfile.PAX_FORMAT) as tf:
            for i in range(33):
                tf.addfile(info("bomb/%02d.yaml" % i, zeros),
                           io.BytesIO(zeros))
    return buf.getvalue()


def truncated_tar():
    raw = files(("a.yaml", DEPLOY * 20), ("b.yaml", DEPLOY * 20))
    return gz(raw[:512 + 700])  # header of a.yaml and part of its data


def bad_checksum():
    raw = bytearray(files(("a.yaml", DEPLOY)))
    # The first header's checksum field (offset 148, 8 bytes).
    raw[148:156] = b"0000000\0"
    return gz(bytes(raw))


def pax_huge_size():
    t = info("huge.yaml", DEPLOY)
    t.pax_headers = {"size": "99999999999999999"}
    return gz(tar_bytes([(t, DEPLOY)]))


def sparse():
    # A GNU sparse file in pax form (format 0.1): 5 bytes of data that
    # stand for a 1 MiB file with a hole.
    t = info("sparse.yaml", b"hello")
    t.pax_headers = {"GNU.sparse.size": str(MIB), "GNU.sparse.map": "0,5"}
    return gz(tar_bytes([(t, b"hello")]))


def special(kind, name="x", **kw):
    return gz(tar_bytes([(info("ok.yaml", DEPLOY), DEPLOY),
                         (info(name, kind=kind, **kw), None)]))


GOOD = {"flux.tar.gz": good_flux}

BAD = {
    # paths
    "dotdot.tar.gz": lambda: gz(files(("../x.yaml", DEPLOY))),
    "dotdot-inner.tar.gz": lambda: gz(files(("a/../../x.yaml", DEPLOY))),
    "absolute.tar.gz": lambda: gz(files(("/etc/x.yaml", DEPLOY))),
    "long-name.tar.gz": lambda: gz(files(("a/" * 2100 + "x.yaml", DEPLOY))),
    "too-deep.tar.gz": lambda: gz(files(("d/" * 32 + "x.yaml", DEPLOY))),
    "duplicate.tar.gz": lambda: gz(files(("app/x.yaml", DEPLOY),
                                         ("./app/x.yaml", DEPLOY))),
    "file-parent.tar.gz": lambda: gz(files(("app", DEPLOY),
                                           ("app/x.yaml", DEPLOY))),
    # types
    "symlink.tar.gz": lambda: special(tarfile.SYMTYPE, "x.yaml",
                                      linkname="/etc/passwd"),
    "hardlink.tar.gz": lambda: special(tarfile.LNKTYPE, "x.yaml",
                                       linkname="ok.yaml"),
    "chardev.tar.gz": lambda: special(tarfile.CHRTYPE, "dev/null",
                                      devmajor=1, devminor=3),
    "blockdev.tar.gz": lambda: special(tarfile.BLKTYPE, "dev/sda",
                                       devmajor=8, devminor=0),
    "fifo.tar.gz": lambda: special(tarfile.FIFOTYPE, "pipe"),
    "sparse.tar.gz": sparse,
    # sizes
    "big-file.tar.gz": lambda: gz(files(("big.yaml", bytes(8 * MIB + 1)))),
    "pax-huge-size.tar.gz": pax_huge_size,
    "bomb.tar.gz": bomb,
    # damage
    "truncated-gzip.tar.gz": lambda: good_flux()[:200],
    "truncated-tar.tar.gz": truncated_tar,
    "bad-checksum.tar.gz": bad_checksum,
    "not-gzip.tar": lambda: files(("a.yaml", DEPLOY)),
}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out, only = sys.argv[1], set(sys.argv[2:])
    for sub, cases in (("good", GOOD), ("bad", BAD)):
        for name, make in cases.items():
            if only and name not in only:
                continue
            os.makedirs(os.path.join(out, sub), exist_ok=True)
            with open(os.path.join(out, sub, name), "wb") as f:
                f.write(make())


if __name__ == "__main__":
    main()
