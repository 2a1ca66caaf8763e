"""Image hosting for the sandbox Ecwid: real JPEG/PNG bytes at exactly the size a URL names.

The app learns an image's size from Ecwid's JSON where Ecwid gives one, and otherwise from the first
bytes of the file (a ranged GET), so the sandbox serves genuine images of every size it advertises,
drawn on demand and kept in a bounded cache: a 50,000-product store must not draw 50,000 images up front.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import formatdate
from typing import Literal

from PIL import Image, ImageDraw

from sandboxes.common import Request, Response

ImageFormat = Literal["jpg", "png"]
ImageArg = tuple[int, int] | tuple[int, int, str]

# Ecwid's resized variants: the longer side fits these boxes (never upscaled past the original).
VARIANT_BOXES = (160, 400, 800, 1500)
MAX_SIDE = 8000  # larger than any real Ecwid upload we model; keeps a bad request from eating memory

_PATH = re.compile(r"^(?P<key>[A-Za-z0-9-]+)_(?P<w>\d+)x(?P<h>\d+)\.(?P<fmt>jpg|png)$")
_CONTENT_TYPES: dict[str, str] = {"jpg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """One uploaded image: its original size and format; resized variants are derived from it."""

    key: str
    width: int
    height: int
    fmt: ImageFormat
    image_id: int
    uploaded_at: int

    def scaled(self, box: int) -> tuple[int, int]:
        return scaled_size(self.width, self.height, box)

    def variant_sizes(self) -> set[tuple[int, int]]:
        return {self.scaled(box) for box in VARIANT_BOXES} | {(self.width, self.height)}

    def path(self, store_id: int, size: tuple[int, int] | None = None) -> str:
        w, h = size or (self.width, self.height)
        return f"/images/{store_id}/{self.key}_{w}x{h}.{self.fmt}"


def scaled_size(width: int, height: int, box: int) -> tuple[int, int]:
    """The size of an image resized to fit `box` on its longer side, never enlarged."""
    longer = max(width, height)
    if longer <= box:
        return width, height
    ratio = box / longer
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def parse_image_arg(value: ImageArg | list[object]) -> tuple[int, int, ImageFormat]:
    """Accept `(w, h)` or `(w, h, "jpg"|"png")` (a JSON list too) and check it."""
    if len(value) not in (2, 3):
        raise ValueError(f"an image is (width, height[, 'jpg'|'png']), not {value!r}")
    width, height = value[0], value[1]
    fmt = value[2] if len(value) == 3 else "jpg"
    if fmt == "jpeg":
        fmt = "jpg"
    if (
        not isinstance(width, int)
        or not isinstance(height, int)
        or not 0 < width <= MAX_SIDE
        or not 0 < height <= MAX_SIDE
    ):
        raise ValueError(f"image sides must be integers in 1..{MAX_SIDE}, not {value!r}")
    if fmt == "jpg":
        return width, height, "jpg"
    if fmt == "png":
        return width, height, "png"
    raise ValueError(f"image format must be 'jpg' or 'png', not {fmt!r}")


def parse_image_name(name: str) -> tuple[str, int, int, ImageFormat] | None:
    match = _PATH.match(name)
    if match is None:
        return None
    fmt: ImageFormat = "png" if match["fmt"] == "png" else "jpg"
    return match["key"], int(match["w"]), int(match["h"]), fmt


class ImageRenderer:
    """Draws and caches image files; the cache is bounded by bytes, least recently used out first."""

    def __init__(self, max_cache_bytes: int = 64 * 1024 * 1024) -> None:
        self._cache: OrderedDict[tuple[str, int, int, str], bytes] = OrderedDict()
        self._cached_bytes = 0
        self._max = max_cache_bytes
        self._lock = threading.Lock()

    def render(self, spec: ImageSpec, width: int, height: int) -> bytes:
        cache_key = (spec.key, width, height, spec.fmt)
        with self._lock:
            data = self._cache.get(cache_key)
            if data is not None:
                self._cache.move_to_end(cache_key)
                return data
        data = _draw(spec.key, width, height, spec.fmt)
        with self._lock:
            self._cache[cache_key] = data
            self._cached_bytes += len(data)
            while self._cached_bytes > self._max and len(self._cache) > 1:
                _, dropped = self._cache.popitem(last=False)
                self._cached_bytes -= len(dropped)
        return data


def _draw(key: str, width: int, height: int, fmt: ImageFormat) -> bytes:
    # A colour per image key, so different products look different in the local run's pages,
    # and a frame, so a wrongly scaled variant is visible to a person too.
    digest = hashlib.sha256(key.encode()).digest()
    background = (digest[0], digest[1], digest[2])
    foreground = (255 - digest[0], 255 - digest[1], 255 - digest[2])
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    inset_x, inset_y = width // 8, height // 8
    if inset_x and inset_y:
        draw.rectangle(
            (inset_x, inset_y, width - inset_x - 1, height - inset_y - 1),
            outline=foreground,
            width=max(1, min(width, height) // 40),
        )
    out = io.BytesIO()
    if fmt == "png":
        image.save(out, "PNG", optimize=False, compress_level=1)
    else:
        image.save(out, "JPEG", quality=80)
    return out.getvalue()


def image_response(request: Request, data: bytes, spec: ImageSpec) -> Response:
    """Answer like a CDN: validators, caching headers, HEAD, and single byte ranges (206/416)."""
    etag = '"' + hashlib.md5(data).hexdigest() + '"'
    headers = {
        "Content-Type": _CONTENT_TYPES[spec.fmt],
        "ETag": etag,
        "Last-Modified": formatdate(spec.uploaded_at, usegmt=True),
        "Cache-Control": "public, max-age=31536000, immutable",
        "Accept-Ranges": "bytes",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(304, b"", headers)
    range_header = request.headers.get("range")
    if not range_header:
        return Response(200, data, headers)
    byte_range = _parse_range(range_header, len(data))
    if byte_range is None:
        # A malformed or multi-range header is ignored, as most CDNs do: the whole file.
        return Response(200, data, headers)
    if byte_range == (-1, -1):
        return Response(416, b"", {**headers, "Content-Range": f"bytes */{len(data)}"})
    start, end = byte_range
    return Response(206, data[start : end + 1], {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"})


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive; None to ignore the header; (-1, -1) when it cannot be satisfied."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # a suffix range: the last N bytes
        length = int(match[2])
        return (-1, -1) if length == 0 else (max(0, size - length), size - 1)
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if match[2] and end < start:
        return None  # syntactically invalid: ignored
    if start >= size:
        return -1, -1
    return start, min(end, size - 1)
