"""Real images for the photo tests, made here (a PNG is a few zlib-compressed rows and three chunks)."""

import struct
import zlib


def png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A solid-colour PNG that any browser or image library decodes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
