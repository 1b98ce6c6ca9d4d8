#!/usr/bin/env python3
"""Write the uncompressed ELF kernel held inside a bzImage.

    extract-vmlinux.py VMLINUZ OUT

A bzImage is a small loader plus a compressed vmlinux. qemu can boot the
vmlinux ELF itself through its PVH entry (Debian kernels have CONFIG_PVH=y),
which skips both the BIOS loader and the decompression; under TCG that saves
3 to 4 s per boot. The payload is found by scanning for each compressor's
magic number and keeping the first candidate that decompresses to an ELF.
"""
import lzma
import subprocess
import sys
import zlib

ELF_MAGIC = b"\x7fELF"


def xz(blob):
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob)


def gzip(blob):
    return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(blob)


def external(*cmd):
    def run(blob):
        return subprocess.run(cmd, input=blob, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout
    return run


DECODERS = [
    (b"\xfd7zXZ\x00", xz),
    (b"\x1f\x8b\x08", gzip),
    (b"\x28\xb5\x2f\xfd", external("zstd", "-dc")),
    (b"\x02\x21\x4c\x18", external("lz4", "-dc")),
]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    image = open(src, "rb").read()
    for magic, decode in DECODERS:
        at = image.find(magic)
        while at >= 0:
            try:
                payload = decode(image[at:])
            except Exception:
                payload = b""
            if payload[:4] == ELF_MAGIC:
                with open(out, "wb") as f:
                    f.write(payload)
                print(f"{out}: {len(payload)} bytes")
                return
            at = image.find(magic, at + 1)
    sys.exit(f"extract-vmlinux.py: no ELF payload found in {src}")


main()
