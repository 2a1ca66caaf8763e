"""An image's size and format are read from its first bytes with a ranged GET, and a bad image never raises."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from PIL import Image

from sandboxes.common import FaultRule
from sandboxes.ecwid import EcwidSandbox
from tiktok_channel.adapters.images import read_image_size
from tiktok_channel.catalog.mapping import ImageSize
from tiktok_channel.models.ecwid_catalog import EcwidProduct

STORE_ID = 1004
URL = "https://images.example.com/store/picture.jpg?signature=do-not-log"


def picture(width: int, height: int, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(out, image_format, **options)
    return out.getvalue()


def cdn(data: bytes, *, honour_range: bool = True, seen: list[httpx.Request] | None = None) -> httpx.Client:
    """A client whose every request is answered with `data`, like a CDN (or one that ignores Range)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers.get("range", ""))
        if not honour_range or match is None:
            return httpx.Response(200, content=data)
        start, end = int(match[1]), min(int(match[2]), len(data) - 1)
        if start >= len(data):
            return httpx.Response(416, headers={"Content-Range": f"bytes */{len(data)}"})
        headers = {"Content-Range": f"bytes {start}-{end}/{len(data)}"}
        return httpx.Response(206, content=data[start : end + 1], headers=headers)

    return httpx.Client(transport=httpx.MockTransport(answer))


# -- real images from the sandbox Ecwid ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ecwid() -> Iterator[EcwidSandbox]:
    sandbox = EcwidSandbox()
    sandbox.start()
    sandbox.add_store(STORE_ID)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def responses() -> list[httpx.Response]:
    return []


@pytest.fixture
def http(ecwid: EcwidSandbox, responses: list[httpx.Response]) -> Iterator[httpx.Client]:
    def remember(response: httpx.Response) -> None:
        responses.append(response)

    with httpx.Client(timeout=5.0, event_hooks={"response": [remember]}) as client:
        yield client


def product_json(ecwid: EcwidSandbox, product_id: int) -> EcwidProduct:
    response = httpx.get(
        f"{ecwid.base_url}/api/v3/{STORE_ID}/products/{product_id}",
        headers={"Authorization": f"Bearer {ecwid.token_for(STORE_ID)}"},
    )
    return EcwidProduct.model_validate(response.json())


@pytest.mark.parametrize(
    ("image", "original", "copy_1500"),
    [
        ((1200, 900, "jpg"), ImageSize(1200, 900, "JPEG"), ImageSize(1200, 900, "JPEG")),
        ((600, 800, "png"), ImageSize(600, 800, "PNG"), ImageSize(600, 800, "PNG")),
        ((320, 320, "jpg"), ImageSize(320, 320, "JPEG"), ImageSize(320, 320, "JPEG")),
        ((2000, 1000, "png"), ImageSize(2000, 1000, "PNG"), ImageSize(1500, 750, "PNG")),
    ],
)
def test_the_size_of_a_sandbox_image_is_read_from_a_small_ranged_get(
    ecwid, http, responses, image, original, copy_1500
):
    product = product_json(ecwid, ecwid.store(STORE_ID).add_product("Pictured", 10, image=image))
    assert product.original_image is not None
    assert product.image_url is not None

    assert read_image_size(http, product.original_image.url) == original
    assert read_image_size(http, product.image_url) == copy_1500
    assert [r.status_code for r in responses] == [206, 206]
    assert all(r.request.headers["range"] == "bytes=0-65535" for r in responses)


def test_a_failing_image_host_gives_no_size(ecwid, http):
    product = product_json(ecwid, ecwid.store(STORE_ID).add_product("Pictured", 10, image=(800, 800, "jpg")))
    assert product.original_image is not None
    url = product.original_image.url
    ecwid.faults.add(FaultRule(kind="http_5xx", path_prefix="/images/", count=1))

    assert read_image_size(http, url) is None
    assert read_image_size(http, url) == ImageSize(800, 800, "JPEG")  # once the host recovers
    assert read_image_size(http, url.replace("_800x800", "_801x800")) is None  # 404


# -- hand-made bytes ----------------------------------------------------------------------------------------


def test_a_png_header_alone_is_enough():
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + (640).to_bytes(4, "big") + (520).to_bytes(4, "big")

    with cdn(header + b"\x08\x02\x00\x00\x00") as client:
        assert read_image_size(client, URL) == ImageSize(640, 520, "PNG")


def test_gif_and_webp_are_recognised_and_do_not_qualify():
    gif = b"GIF89a" + (800).to_bytes(2, "little") + (600).to_bytes(2, "little") + b"\xf7\x00\x00" + bytes(32)
    found = {}
    for name, data in {
        "gif": gif,
        "webp lossy": picture(900, 700, "WEBP", quality=50),
        "webp lossless": picture(900, 700, "WEBP", lossless=True),
        "webp extended": picture(900, 700, "WEBP", exif=b"Exif\x00\x00" + bytes(16)),
    }.items():
        with cdn(data) as client:
            found[name] = read_image_size(client, URL)

    assert found == {
        "gif": ImageSize(800, 600, "GIF"),
        "webp lossy": ImageSize(900, 700, "WEBP"),
        "webp lossless": ImageSize(900, 700, "WEBP"),
        "webp extended": ImageSize(900, 700, "WEBP"),
    }
    assert not any(size.qualifies for size in found.values() if size is not None)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(picture(800, 800, "JPEG")[:40], id="truncated jpeg"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", id="truncated png"),
        pytest.param(b"<html><body>Not an image</body></html>", id="an html page"),
        pytest.param(bytes(range(256)) * 4, id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xd8\xff\xda\x00\x08" + bytes(100), id="jpeg without a frame header"),
    ],
)
def test_what_cannot_be_parsed_gives_no_size(data):
    with cdn(data) as client:
        assert read_image_size(client, URL) is None


def test_a_jpeg_frame_header_behind_large_metadata_is_found_with_a_few_more_ranged_reads():
    jpeg = picture(700, 520, "JPEG")
    metadata = b"".join(b"\xff\xe1\xff\xff" + bytes(0xFFFD) for _ in range(2))  # two full APP1 segments
    data = jpeg[:2] + metadata + jpeg[2:]
    seen: list[httpx.Request] = []

    with cdn(data, seen=seen) as client:
        size = read_image_size(client, URL)

    assert size == ImageSize(700, 520, "JPEG")
    assert 2 <= len(seen) <= 4
    assert all(r.headers["range"].startswith("bytes=") for r in seen)


def test_a_server_that_ignores_range_still_answers():
    jpeg = picture(640, 640, "JPEG")
    data = jpeg[:2] + b"\xff\xe1\xff\xff" + bytes(0xFFFD) + jpeg[2:]

    with cdn(picture(1024, 512, "PNG"), honour_range=False) as client:
        assert read_image_size(client, URL) == ImageSize(1024, 512, "PNG")
    with cdn(data, honour_range=False) as client:
        assert read_image_size(client, URL) == ImageSize(640, 640, "JPEG")


def test_a_206_for_the_wrong_range_gives_no_size():
    data = picture(800, 800, "PNG")

    def wrong(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            206, content=data[10:], headers={"Content-Range": f"bytes 10-{len(data) - 1}/{len(data)}"}
        )

    with httpx.Client(transport=httpx.MockTransport(wrong)) as client:
        assert read_image_size(client, URL) is None


def _raise(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
)
def test_an_unreachable_image_gives_no_size_and_raises_nothing(error):
    with httpx.Client(transport=httpx.MockTransport(_raise(error))) as client:
        assert read_image_size(client, URL) is None


def test_a_malformed_or_refused_url_gives_no_size():
    with httpx.Client(timeout=2.0) as client:
        assert read_image_size(client, "not a url") is None
        assert read_image_size(client, "ftp://example.com/a.jpg") is None
        assert read_image_size(client, "http://127.0.0.1:1/a.jpg?token=secret") is None
