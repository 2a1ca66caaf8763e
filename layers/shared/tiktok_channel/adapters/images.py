"""Image sizes read over HTTP with ranged GETs (the `ImageProbe` port), for the images Ecwid gives no size for."""

from __future__ import annotations

from typing import Final

import httpx

from tiktok_channel.catalog.images import CHUNK_BYTES, image_size
from tiktok_channel.catalog.mapping import ImageSize

# A server that ignores Range sends the whole file; never read further into one than this.
_MAX_UNRANGED_BYTES: Final = 1_048_576


class HttpImageProbe:
    """The `ImageProbe` port over one pooled httpx client."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def read_image_size(self, url: str) -> ImageSize | None:
        return read_image_size(self._http, url)


def read_image_size(http: httpx.Client, url: str) -> ImageSize | None:
    """The image's width, height and format from ranged GETs of its first bytes; None when it cannot be read or
    is no image `catalog.images` knows. Never raises for a bad image or an unreachable URL: the caller holds
    the product back instead."""
    return image_size(lambda start: _read(http, url, start))


def _read(http: httpx.Client, url: str, start: int) -> bytes | None:
    """Up to CHUNK_BYTES of the file from `start`, or None."""
    headers = {"Range": f"bytes={start}-{start + CHUNK_BYTES - 1}"}
    try:
        # Redirects are followed here (CDNs move images); the API clients never follow them.
        with http.stream("GET", url, headers=headers, follow_redirects=True) as response:
            if response.status_code == 206:
                if _range_start(response.headers.get("content-range", "")) != start:
                    return None
                skip = 0
            elif response.status_code == 200 and start + CHUNK_BYTES <= _MAX_UNRANGED_BYTES:
                skip = start  # the server ignored the range: this is the whole file from its first byte
            else:
                return None
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= skip + CHUNK_BYTES:
                    break
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError):
        # Deliberately swallowed, not logged: httpx's messages carry the URL, query string included.
        return None
    return bytes(body[skip : skip + CHUNK_BYTES])


def _range_start(content_range: str) -> int | None:
    # "bytes 0-65535/123456"
    unit, _, rest = content_range.strip().partition(" ")
    first = rest.partition("-")[0]
    return int(first) if unit.lower() == "bytes" and first.isdigit() else None
