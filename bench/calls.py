"""The sandboxes' call logs, counted by endpoint, and a description of what an endpoint's calls were.

Calls under /_sandbox/ are the sandboxes' control calls, not API calls: they are left out. Ecwid's image
host (/images/…) is counted apart from its REST API (/api/v3/…), which the Ecwid bound is about.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sandboxes.common import RecordedCall

_ECWID_API = re.compile(r"^/api/v3/\d+/(?P<what>profile|categories|products)/?$")
_ECWID_STORAGE = re.compile(r"^/api/v3/\d+/storage/")
_TIKTOK = "/open_api/v1.3"
TIKTOK_ENDPOINTS = {
    "/catalog/product/upload/": "tiktok upload",
    "/catalog/product/delete/": "tiktok delete",
    "/catalog/product/log/": "tiktok feed log",
    # The catalog bound to the pixel (journey 7): looked up, then bound, once per connection.
    "/catalog/eventsource_bind/get/": "tiktok pixel binding",
    "/catalog/eventsource/bind/": "tiktok pixel binding",
}


def ecwid_endpoint(call: RecordedCall) -> str | None:
    if call.path.startswith("/_sandbox/"):
        return None
    if call.path.startswith("/images/"):
        return "ecwid images"
    match = _ECWID_API.match(call.path)
    if match and call.method == "GET":
        return f"ecwid {match.group('what')}"
    if _ECWID_STORAGE.match(call.path) and call.method in ("PUT", "POST", "DELETE"):
        return "ecwid storage writes"  # the pixel's storefront config (journey 7)
    path = re.sub(r"/\d+", "/{id}", call.path)
    return f"ecwid other: {call.method} {path}"


def tiktok_endpoint(call: RecordedCall) -> str | None:
    if call.path.startswith("/_sandbox/"):
        return None
    path = call.path[len(_TIKTOK) :] if call.path.startswith(_TIKTOK) else call.path
    path = path.rstrip("/") + "/"
    if path in TIKTOK_ENDPOINTS:
        return TIKTOK_ENDPOINTS[path]
    if path == "/catalog/product/get/":
        return "tiktok status reads" if "sku_ids" in call.query else "tiktok listing reads"
    return f"tiktok other: {call.method} {path}"


def by_endpoint(ecwid_calls: Iterable[RecordedCall], tiktok_calls: Iterable[RecordedCall]) -> dict[str, list[Any]]:
    grouped: dict[str, list[RecordedCall]] = {}
    for calls, classify in ((ecwid_calls, ecwid_endpoint), (tiktok_calls, tiktok_endpoint)):
        for call in calls:
            endpoint = classify(call)
            if endpoint is not None:
                grouped.setdefault(endpoint, []).append(call)
    return grouped


def _body(call: RecordedCall) -> dict[str, Any]:
    try:
        data = json.loads(call.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _query(call: RecordedCall) -> str:
    return "&".join(f"{k}={v[0]}" for k, v in sorted(call.query.items()) if k not in ("sku_ids",))


def uploaded_skus(calls: Iterable[RecordedCall]) -> Counter[str]:
    """How many times each sku_id was sent to catalog/product/upload."""
    sent: Counter[str] = Counter()
    for call in calls:
        for product in _body(call).get("products", []):
            if isinstance(product, dict):
                sent[str(product.get("sku_id"))] += 1
    return sent


def _sku_id_list(call: RecordedCall, key: str) -> list[str]:
    raw = call.query.get(key, [""])[0] if key in call.query else _body(call).get(key, [])
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return [str(s) for s in raw] if isinstance(raw, list) else []


def _describe_uploads(calls: list[RecordedCall], expected_upserts: set[str] | None) -> list[str]:
    lines: list[str] = []
    sent = uploaded_skus(calls)
    sizes = [len(_body(c).get("products", [])) for c in calls]
    lines.append(f"batch sizes: {_sizes(sizes)}; {sum(sent.values())} SKUs sent, {len(sent)} distinct")
    if expected_upserts is not None:
        unchanged = set(sent) - expected_upserts
        missing = expected_upserts - set(sent)
        if unchanged:
            lines.append(f"{len(unchanged)} SKUs sent that did not change, e.g. {sorted(unchanged)[:5]}")
        if missing:
            lines.append(f"{len(missing)} changed SKUs never sent, e.g. {sorted(missing)[:5]}")
    again = [s for s, n in sent.items() if n > 1]
    if again:
        lines.append(f"{len(again)} SKUs sent more than once, e.g. {sorted(again)[:5]}")
    return lines


def describe(endpoint: str, calls: list[RecordedCall], expected_upserts: set[str] | None = None) -> list[str]:
    """What the calls of one endpoint were: enough to see why there are more than the bound allows."""
    lines: list[str] = []
    repeated = Counter((c.method, c.path, json.dumps(c.query, sort_keys=True), c.body) for c in calls)
    duplicates = sum(n - 1 for n in repeated.values() if n > 1)
    if duplicates:
        lines.append(f"{duplicates} call(s) repeat an earlier identical request (retries or re-reads)")
    if endpoint == "tiktok upload":
        lines += _describe_uploads(calls, expected_upserts)
    elif endpoint == "tiktok feed log":
        reads = Counter(c.query.get("feed_log_id", [""])[0] for c in calls)
        lines.append(
            f"{len(reads)} distinct feed logs read, {sum(n - 1 for n in reads.values())} re-reads of one not done yet: "
            "one read per write call, so it exceeds its bound when the write calls do"
        )
    elif endpoint == "tiktok delete":
        sizes = [len(_sku_id_list(c, "sku_ids")) for c in calls]
        lines.append(f"batch sizes: {_sizes(sizes)}")
    elif endpoint == "tiktok status reads":
        sizes = [len(_sku_id_list(c, "sku_ids")) for c in calls]
        pages = Counter(c.query.get("page", ["1"])[0] for c in calls)
        page_sizes = Counter(c.query.get("page_size", ["?"])[0] for c in calls)
        lines.append(f"sku_ids per call: {_sizes(sizes)}; page numbers {dict(pages)}; page_size {dict(page_sizes)}")
    elif endpoint == "tiktok listing reads":
        numbers = [int(c.query.get("page", ["1"])[0]) for c in calls]
        lines.append(f"pages {min(numbers)}..{max(numbers)} ({len(set(numbers))} distinct) of {len(numbers)} calls")
    elif endpoint == "ecwid products":
        by_id = [c for c in calls if "productId" in c.query]
        offsets = [c.query.get("offset", ["0"])[0] for c in calls if "productId" not in c.query]
        lines.append(f"{len(offsets)} page reads ({len(set(offsets))} distinct offsets), {len(by_id)} by productId")
    elif endpoint == "ecwid images":
        per_image = Counter(c.path for c in calls)
        reread = sum(n for n in per_image.values() if n > 1)
        lines.append(f"{len(per_image)} distinct images, {reread} GETs of an image read more than once")
    else:
        lines.append("; ".join(sorted({f"{c.method} {c.path}?{_query(c)}"[:120] for c in calls})[:5]))
    return lines


def _sizes(sizes: list[int]) -> str:
    counted = Counter(sizes)
    return ", ".join(f"{n}×{size}" for size, n in sorted(counted.items(), reverse=True)) or "none"


def upload_times_by_catalog(calls: Iterable[RecordedCall]) -> dict[str, list[float]]:
    """catalog_id → when (sandbox clock) each catalog/product/upload call for it came."""
    times: dict[str, list[float]] = {}
    for call in calls:
        if tiktok_endpoint(call) == "tiktok upload":
            times.setdefault(str(_body(call).get("catalog_id")), []).append(call.at)
    return times


def busiest_window(times: Iterable[float], seconds: float = 3600.0) -> int:
    """The most of `times` that fall within any `seconds` (a sliding window, as TikTok's hourly limit)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most
