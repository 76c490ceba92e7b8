"""Small real images for upload tests (a PNG written by hand: no imaging library)."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A valid PNG of one colour (with a lighter band, so it is visibly a picture)."""
    rows = []
    for y in range(height):
        colour = rgb if y < height * 2 // 3 else tuple(min(255, c + 90) for c in rgb)
        rows.append(b"\x00" + bytes(colour) * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + _chunk(b"IEND", b"")
    )
