#!/usr/bin/env python3
"""Writes a large PET-like DICOM Part 10 file (explicit VR little endian) for the C-STORE
memory bench: one PET Image Storage object whose pixel data is SIZE_MB megabytes of
16-bit values, with a personnummer-shaped PatientID and a name to de-identify.

    cstore-make-large.py OUT SIZE_MB INSTANCE_NUMBER
"""
import struct
import sys

out, size_mb, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
PET = "1.2.840.10008.5.1.4.1.1.128"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
sop = f"2.25.1234567890123456789.{n}"
study = "2.25.1234567890123456789.900"
series = "2.25.1234567890123456789.901"

LONG = {b"OB", b"OW", b"SQ", b"UN", b"UT"}


def el(group, elem, vr, value):
    if isinstance(value, str):
        value = value.encode()
        if len(value) % 2:
            value += b"\0" if vr == b"UI" else b" "
    head = struct.pack("<HH", group, elem) + vr
    if vr in LONG:
        return head + b"\0\0" + struct.pack("<I", len(value)) + value
    return head + struct.pack("<H", len(value)) + value


meta_body = (
    el(0x0002, 0x0001, b"OB", b"\0\1")
    + el(0x0002, 0x0002, b"UI", PET)
    + el(0x0002, 0x0003, b"UI", sop)
    + el(0x0002, 0x0010, b"UI", EXPLICIT_LE)
    + el(0x0002, 0x0012, b"UI", "2.25.99")
)
meta = el(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta_body))) + meta_body

side = int(((size_mb * 1024 * 1024) // 2) ** 0.5) // 2 * 2
pixel_bytes = side * side * 2
header = (
    el(0x0008, 0x0016, b"UI", PET)
    + el(0x0008, 0x0018, b"UI", sop)
    + el(0x0008, 0x0060, b"CS", "PT")
    + el(0x0010, 0x0010, b"PN", "Svensson^Anna")
    + el(0x0010, 0x0020, b"LO", "19850312-1231")
    + el(0x0010, 0x0030, b"DA", "19850312")
    + el(0x0020, 0x000D, b"UI", study)
    + el(0x0020, 0x000E, b"UI", series)
    + el(0x0020, 0x0013, b"IS", str(n))
    + el(0x0028, 0x0002, b"US", struct.pack("<H", 1))
    + el(0x0028, 0x0004, b"CS", "MONOCHROME2")
    + el(0x0028, 0x0010, b"US", struct.pack("<H", side))
    + el(0x0028, 0x0011, b"US", struct.pack("<H", side))
    + el(0x0028, 0x0100, b"US", struct.pack("<H", 16))
    + el(0x0028, 0x0101, b"US", struct.pack("<H", 16))
    + el(0x0028, 0x0102, b"US", struct.pack("<H", 15))
    + el(0x0028, 0x0103, b"US", struct.pack("<H", 0))
)
with open(out, "wb") as f:
    f.write(b"\0" * 128 + b"DICM" + meta + header)
    f.write(struct.pack("<HH", 0x7FE0, 0x0010) + b"OW\0\0" + struct.pack("<I", pixel_bytes))
    chunk = bytes(range(256)) * 4096
    left = pixel_bytes
    while left:
        k = min(left, len(chunk))
        f.write(chunk[:k])
        left -= k
