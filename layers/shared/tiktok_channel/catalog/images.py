"""An image's size and format from its first bytes, for the images Ecwid gives no size for.

Pure Python on purpose: Pillow is not in the layer, and a header is all TikTok's 500×500 rule needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from tiktok_channel.catalog.mapping import ImageSize

CHUNK_BYTES: Final = 65_536
# A JPEG's metadata (an EXIF thumbnail, an ICC profile) can push its frame header past the first chunk:
# a few more ranged reads find it without downloading the picture.
_MAX_REQUESTS: Final = 4
# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_JPEG_FRAME_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE_MARKERS: Final = frozenset({0x01, *range(0xD0, 0xD8)})
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"

# A size, "continue reading at this file offset" (JPEG only), or unknown.
_Found = ImageSize | int | None


def image_size(read: Callable[[int], bytes | None]) -> ImageSize | None:
    """The image's width, height and format; None when it cannot be read or is no image this module knows.

    `read(offset)` answers up to CHUNK_BYTES of the file from that offset (None when it cannot); it is asked
    at most a few times, for a JPEG whose metadata pushes the frame header further in.
    """
    head = read(0)
    if head is None:
        return None
    found = _identify(head)
    for _ in range(_MAX_REQUESTS - 1):
        if not isinstance(found, int):
            break
        offset = found
        window = read(offset)
        if not window:
            return None
        found = _walk_jpeg(window, offset, offset)
        if found == offset:  # the file ends inside a marker: there is no more to read
            return None
    return found if isinstance(found, ImageSize) else None


def _identify(head: bytes) -> _Found:
    if head.startswith(b"\xff\xd8"):
        return _walk_jpeg(head, 0, 2)
    if head.startswith(_PNG_SIGNATURE):
        return _png(head)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return _sized(int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little"), "GIF")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    return None


def _walk_jpeg(window: bytes, base: int, position: int) -> _Found:
    """Walk JPEG segments from file offset `position` to the frame header; `window` starts at offset `base`."""
    while True:
        at = position - base
        if at + 9 > len(window):  # a marker, its length and the frame header's first fields
            return position
        if window[at] != 0xFF:
            return None
        marker = window[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE_MARKERS:
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or image data, before any frame header
            return None
        length = int.from_bytes(window[at + 2 : at + 4], "big")
        if length < 2:
            return None
        if marker in _JPEG_FRAME_MARKERS:
            height = int.from_bytes(window[at + 5 : at + 7], "big")
            width = int.from_bytes(window[at + 7 : at + 9], "big")
            return _sized(width, height, "JPEG")
        position += 2 + length


def _png(head: bytes) -> ImageSize | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return _sized(int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big"), "PNG")


def _webp(head: bytes) -> ImageSize:
    # Enough to name the format; the size is a courtesy, since WebP never qualifies.
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        width = 1 + int.from_bytes(head[24:27], "little")
        height = 1 + int.from_bytes(head[27:30], "little")
        return ImageSize(width, height, "WEBP")
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return ImageSize(1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF), "WEBP")
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        height = int.from_bytes(head[28:30], "little") & 0x3FFF
        return ImageSize(width, height, "WEBP")
    return ImageSize(0, 0, "WEBP")


def _sized(width: int, height: int, image_format: str) -> ImageSize | None:
    return ImageSize(width, height, image_format) if width > 0 and height > 0 else None
