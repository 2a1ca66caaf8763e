"""The complete list of a feed log's failed products: the file its `download_path` links.

TikTok's feed log names only the first five products of each issue (tiktok-api.md, "Processing result"); the file
lists them all. Its format is unconfirmed (TikTok's examples link `.csv` files), so the reader is tolerant: CSV
with a header row (comma, semicolon, tab or bar between fields), or JSON (a list of objects, or an object holding
one), with columns found by name: the SKU column is the one whose name contains "sku"; the issue is "issue", else
"error", "reason" or "message"; the suggestion's name contains "suggest"; the field's is "field" or "attribute".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from tiktok_channel.models.tiktok import FeedLogFileRow

MAX_FILE_BYTES = 20 * 1024 * 1024  # a 5,000-product batch with several issues each stays far below


class UnreadableFile(ValueError):
    """The file has no recognisable SKU column (or is neither CSV nor JSON)."""


def parse_feed_log_file(content: bytes) -> list[FeedLogFileRow]:
    """The failed products the file lists, one row per (product, issue); raises `UnreadableFile`."""
    text = content.decode("utf-8-sig", errors="replace").strip()
    try:
        rows = _json_rows(text) if text.startswith(("[", "{")) else _csv_rows(text)
    except (csv.Error, ValueError, RecursionError) as error:  # a field past csv's limit, JSON nested too deep
        raise UnreadableFile(f"unreadable: {type(error).__name__}") from None
    if not rows:
        return []
    columns = _columns(rows[0].keys())
    if columns["sku_id"] is None:
        raise UnreadableFile(f"no SKU column among {sorted(rows[0].keys())[:10]}")
    found = []
    for row in rows:
        values = {name: _text(row.get(column)) if column else None for name, column in columns.items()}
        if values["sku_id"]:
            found.append(FeedLogFileRow.model_validate(values))
    return found


def _csv_rows(text: str) -> list[Mapping[str, Any]]:
    """CSV with its header; the delimiter (comma, semicolon, tab or bar) is read from the header line."""
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=header.count)
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def _json_rows(text: str) -> list[Mapping[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise UnreadableFile("neither CSV nor JSON") from error
    if isinstance(data, dict):  # e.g. {"data": [...]}: the first list of objects it holds
        data = next((v for v in data.values() if isinstance(v, list)), [])
    if not isinstance(data, list):
        raise UnreadableFile("JSON without a list of products")
    return [row for row in data if isinstance(row, dict)]


def _columns(names: Iterable[str]) -> dict[str, str | None]:
    lowered = {str(name).strip().lower(): name for name in names if name is not None}

    def first(*needles: str, exact: bool = False) -> str | None:
        for needle in needles:
            for low, name in lowered.items():
                if low == needle or (not exact and needle in low):
                    return name
        return None

    return {
        "sku_id": first("sku_id", "sku"),
        "field": first("field", "attribute", exact=True) or first("field"),
        "issue": first("issue", "error", "reason", "message"),
        "suggestion": first("suggest"),
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
