"""Catalog product rules of the sandbox TikTok: upload validation, review outcomes, image checks.

Validation mirrors the ECOM product fields in tiktok-api.md ("Catalog products"). Two outcomes for a bad
product (tiktok-api.md, "One refused product can refuse the whole request"):
- a request refusal rule (`RefusalRule`, e.g. `empty_value_rule`, `refuse_skus`) that matches any product
  refuses the whole upload with 40002 and nothing of it is applied;
- any other problem keeps only that product out and is reported in the feed log, grouped per
  (field, issue) as TikTok's `error_affected_products` is, and listed in full in the feed log's file.
Review happens later (see TikTokSandbox.review_now) and runs the rejection rules, each a callable
`(fields) -> (reason, suggestion) | None`.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import struct
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sandboxes.tiktok_models import CatalogProduct, FeedLog

AVAILABILITY = frozenset({"IN_STOCK", "AVAILABLE_FOR_ORDER", "PREORDER", "OUT_OF_STOCK", "DISCONTINUED"})
AD_ELIGIBLE_AVAILABILITY = frozenset({"IN_STOCK", "AVAILABLE_FOR_ORDER", "PREORDER"})
CONDITIONS = frozenset({"NEW", "REFURBISHED", "USED"})
# The key TikTok reads for extra images is unconfirmed (tiktok-api.md, "Not confirmed"): accept both.
ADDITIONAL_IMAGE_KEYS = ("additional_image_urls", "additional_image_link")
MAX_ADDITIONAL_IMAGES = 10
MIN_IMAGE_SIDE = 500

RejectionRule = Callable[[dict[str, Any]], "tuple[str, str] | None"]

# Pictographs, dingbats, regional indicators, variation selectors and the zero-width joiner of
# emoji sequences: TikTok refuses any of them in a sku_id.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f1e6-\U0001f1ff\U00002b00-\U00002bff"
    "\ufe0e\ufe0f\u200d\U000e0020-\U000e007f]"
)


# TikTok's listed product error for a title (tiktok-api.md, "Field rules"): emoji as above, control or
# function characters (Cc, Cf) and lone surrogates (not valid Unicode).
TITLE_CHARACTERS_ISSUE = "Emojis and control characters are not allowed"
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# Which GTIN check TikTok applies is unconfirmed (tiktok-api.md, "Not confirmed"): the sandbox takes GS1's
# lengths and check digit, as the feed validator quoted there does.
GTIN_LENGTHS = frozenset({8, 12, 13, 14})


@dataclass(frozen=True)
class ProductIssue:
    field: str
    issue: str
    suggestion: str


# (product) -> the issue that makes TikTok refuse the whole upload request, or None.
RefusalRule = Callable[[dict[str, Any]], ProductIssue | None]
RefusalMessageNames = Literal["field", "index", "sku_id"]
REFUSAL_VALUE_CHARS = 60
PAGE_PRICE_TOLERANCE = Decimal("0.005")
PAGE_PRICE_ISSUE = "Product price and page price are inconsistent"
FEED_LOG_FILE_COLUMNS = ("index", "sku_id", "title", "field", "issue", "suggestion")
FIRST_ROW_INDEX = 2  # a feed log's `index` counts rows of a file with a header: 2 is the first product


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def empty_value_rule(product: dict[str, Any]) -> ProductIssue | None:
    """The empty values TikTok's WooCommerce plugin drops before sending, because "an empty value fails the
    whole request" (tiktok-api.md): no sku_id, title, description or image_url, or a missing or zero price."""
    for name, what in (
        ("sku_id", "SKU ID"),
        ("title", "title"),
        ("description", "description"),
        ("image_url", "main image URL"),
    ):
        if _blank(product.get(name)):
            return ProductIssue(name, "must not be empty", f"Add the product's {what}, or leave the product out.")
    price_info = product.get("price_info")
    raw = price_info.get("price") if isinstance(price_info, dict) else None
    if raw is None or (isinstance(raw, str) and not raw.strip()) or _decimal(raw) == 0:
        return ProductIssue(
            "price_info.price", "must be a number above 0", "Set a price above 0, or leave the product out."
        )
    return None


def refuse_skus(
    sku_ids: set[str], field: str = "title", issue: str = "Promotional text is not allowed in titles"
) -> RefusalRule:
    """A request refusal rule that refuses any upload carrying one of `sku_ids` (for tests and the bench):
    `tiktok.request_refusal_rules.append(refuse_skus({"42"}))`."""
    chosen = frozenset(sku_ids)

    def rule(product: dict[str, Any]) -> ProductIssue | None:
        if product.get("sku_id") in chosen:
            return ProductIssue(field, issue, "Fix the product, then upload the request again.")
        return None

    return rule


def field_value(product: dict[str, Any], name: str) -> Any:
    """The value at a dotted field name (`price_info.price`), None when absent."""
    value: Any = product
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def refusal_message(names: RefusalMessageNames, index: int, product: dict[str, Any], issue: ProductIssue) -> str:
    """The 40002 message for a refused upload, naming the first offending product's field.

    TikTok's exact wording is unconfirmed (tiktok-api.md, "Not confirmed"); `names` picks what it names
    besides the field: the offending value ("field"), the 0-based position in `products` ("index"), or the
    product's sku_id ("sku_id").
    """
    if names == "index":
        return f"products[{index}].{issue.field}: {issue.issue}"
    if names == "sku_id":
        return f"products.{issue.field}: {issue.issue} (sku_id: {product.get('sku_id')})"
    value = json.dumps(field_value(product, issue.field), ensure_ascii=False, default=str)
    return f"products.{issue.field}: {issue.issue} (value: {value[:REFUSAL_VALUE_CHARS]})"


def page_price_issue(price_info: Any, page: tuple[float, float | None]) -> ProductIssue | None:
    """TikTok's "Product price and page price are inconsistent" (tiktok-api.md, "Field rules"): the sent
    price and sale price against the page's regular and sale price; a sale on one side only differs too."""
    info = price_info if isinstance(price_info, dict) else {}
    page_regular, page_sale = page

    def differs(sent: Any, shown: float | None) -> bool:
        if sent is None or shown is None:
            return (sent is None) != (shown is None)
        number = _decimal(sent)
        return number is None or abs(number - Decimal(str(shown))) > PAGE_PRICE_TOLERANCE

    if not differs(info.get("price"), page_regular) and not differs(info.get("sale_price"), page_sale):
        return None
    return ProductIssue(
        "price_info.price",
        PAGE_PRICE_ISSUE,
        "Send the price and sale price the product's landing page shows, then upload the product again.",
    )


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _decimal(value: Any) -> Decimal | None:
    """TikTok takes prices as numbers; numeric strings are accepted too. Anything else is invalid."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text_issues(product: dict[str, Any], name: str, limit: int, required: bool, what: str) -> list[ProductIssue]:
    value = product.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if not required:
            return []
        return [ProductIssue(name, f"Missing value: {name}", f"Add the {what}; it is required for every product.")]
    if not isinstance(value, str):
        return [ProductIssue(name, f"Invalid value: {name}", f"The {what} must be text.")]
    if len(value) > limit:
        return [
            ProductIssue(name, f"Invalid value: {name}", f"The {what} is too long: use at most {limit} characters.")
        ]
    return []


def _title_character_issues(title: Any) -> list[ProductIssue]:
    if not isinstance(title, str):
        return []
    if _EMOJI.search(title) or any(unicodedata.category(c) in _CONTROL_CATEGORIES for c in title):
        return [
            ProductIssue(
                "title",
                TITLE_CHARACTERS_ISSUE,
                "Remove emoji and control or invisible characters from the title, then upload the product again.",
            )
        ]
    return []


def _gtin_issues(value: Any) -> list[ProductIssue]:
    """A GTIN is optional; one that is sent must be 8, 12, 13 or 14 digits ending in GS1's check digit."""
    if value is None or value == "":
        return []
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) in GTIN_LENGTHS:
        weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(value[:-1])))
        if -weighted % 10 == int(value[-1]):
            return []
    return [
        ProductIssue(
            "global_trade_item_number",
            "Invalid value: global_trade_item_number",
            "Use a GTIN (UPC, EAN or ISBN) of 8, 12, 13 or 14 digits with a valid check digit, or leave it out.",
        )
    ]


def validate_product(product: Any, catalog_currency: str) -> list[ProductIssue]:  # noqa: C901 - one flat list of rules
    """Every problem that stops TikTok from accepting `product` into a catalog in `catalog_currency`."""
    if not isinstance(product, dict):
        return [ProductIssue("product", "Invalid value: product", "Each product must be a JSON object.")]
    issues: list[ProductIssue] = []

    sku_id = product.get("sku_id")
    if sku_id is None or (isinstance(sku_id, str) and not sku_id.strip()):
        issues.append(ProductIssue("sku_id", "Missing value: sku_id", "Add a unique SKU ID to the product."))
    elif not isinstance(sku_id, str):
        issues.append(ProductIssue("sku_id", "Invalid value: sku_id", "The SKU ID must be text."))
    elif len(sku_id) > 100:
        issues.append(ProductIssue("sku_id", "Invalid value: sku_id", "Use a SKU ID of at most 100 characters."))
    elif _EMOJI.search(sku_id):
        issues.append(ProductIssue("sku_id", "Invalid value: sku_id", "Remove emoji from the SKU ID."))

    issues += _text_issues(product, "title", 500, True, "product title")
    issues += _title_character_issues(product.get("title"))
    issues += _gtin_issues(product.get("global_trade_item_number"))
    issues += _text_issues(product, "description", 10_000, True, "product description")
    issues += _text_issues(product, "brand", 150, False, "brand")
    issues += _text_issues(product, "item_group_id", 100, False, "item group ID")

    availability = product.get("availability")
    if availability is None:
        issues.append(
            ProductIssue(
                "availability",
                "Missing value: availability",
                "Set availability to one of " + ", ".join(sorted(AVAILABILITY)) + ".",
            )
        )
    elif availability not in AVAILABILITY:
        issues.append(
            ProductIssue(
                "availability",
                "Invalid value: availability",
                "Set availability to one of " + ", ".join(sorted(AVAILABILITY)) + ".",
            )
        )

    if product.get("image_url") in (None, ""):
        issues.append(
            ProductIssue("image_url", "Missing value: image_url", "Add a main image: a JPG or PNG at least 500x500 px.")
        )
    elif not _is_url(product.get("image_url")):
        issues.append(
            ProductIssue("image_url", "Invalid value: image_url", "Use a full http(s) URL for the main image.")
        )

    for key in ADDITIONAL_IMAGE_KEYS:
        images = product.get(key)
        if images is None:
            continue
        if not isinstance(images, list) or not all(_is_url(url) for url in images):
            issues.append(
                ProductIssue(key, f"Invalid value: {key}", "Give additional images as a list of full http(s) URLs.")
            )
        elif len(images) > MAX_ADDITIONAL_IMAGES:
            issues.append(
                ProductIssue(key, f"Invalid value: {key}", f"Use at most {MAX_ADDITIONAL_IMAGES} additional images.")
            )

    detail = product.get("product_detail")
    if detail is not None:
        if not isinstance(detail, dict):
            issues.append(
                ProductIssue("product_detail", "Invalid value: product_detail", "product_detail must be a JSON object.")
            )
        elif detail.get("condition") is not None and detail.get("condition") not in CONDITIONS:
            issues.append(
                ProductIssue("condition", "Invalid value: condition", "Set condition to NEW, REFURBISHED or USED.")
            )

    issues += _price_issues(product.get("price_info"), catalog_currency)

    landing = product.get("landing_page")
    url = landing.get("landing_page_url") if isinstance(landing, dict) else None
    if url in (None, ""):
        issues.append(
            ProductIssue(
                "landing_page_url",
                "Missing value: landing_page_url",
                "Add the URL of the product's page in your store.",
            )
        )
    elif not _is_url(url):
        issues.append(
            ProductIssue(
                "landing_page_url", "Invalid value: landing_page_url", "Use a full http(s) URL for the product page."
            )
        )
    return issues


def _price_issues(price_info: Any, catalog_currency: str) -> list[ProductIssue]:
    if not isinstance(price_info, dict):
        return [
            ProductIssue(
                "price_info", "Missing value: price_info", "Add price_info with the price and the catalog's currency."
            )
        ]
    issues: list[ProductIssue] = []
    price = _decimal(price_info.get("price"))
    if price_info.get("price") is None:
        issues.append(ProductIssue("price", "Missing value: price", "Add a price above 0."))
    elif price is None or price <= 0:
        issues.append(ProductIssue("price", "Invalid value: price", "The price must be a number above 0."))
    currency = price_info.get("currency")
    if currency in (None, ""):
        issues.append(
            ProductIssue(
                "currency",
                "Missing value: currency",
                f"Set the currency to the catalog's currency, {catalog_currency}.",
            )
        )
    elif currency != catalog_currency:
        issues.append(
            ProductIssue(
                "currency",
                "Invalid value: currency",
                f"The currency must match the catalog's currency, {catalog_currency}.",
            )
        )
    if price_info.get("sale_price") is not None:
        sale_price = _decimal(price_info.get("sale_price"))
        if sale_price is None or sale_price <= 0:
            issues.append(
                ProductIssue("sale_price", "Invalid value: sale_price", "The sale price must be a number above 0.")
            )
        elif price is not None and sale_price > price:
            issues.append(
                ProductIssue(
                    "sale_price", "Invalid value: sale_price", "The sale price must not be higher than the price."
                )
            )
    return issues


def group_issues(
    failed: list[tuple[dict[str, Any], int, list[ProductIssue]]], item_limit: int | None
) -> list[dict[str, Any]]:
    """TikTok's `error_affected_products`: one entry per (field, issue) with the products it hit.

    `failed` holds (product, row index, issues), the row index counting like a file with a header
    (FIRST_ROW_INDEX is the first product of the request). TikTok's reference says the item list shows only
    the first five products of each issue; `item_limit` reproduces that when set, while
    `affected_product_count` always counts them all (the feed log's file lists every one: feed_log_rows).
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for product, index, issues in failed:
        sku_id = product.get("sku_id") if isinstance(product, dict) else None
        title = product.get("title") if isinstance(product, dict) else None
        item = {
            "sku_id": sku_id if isinstance(sku_id, str) else "",
            "index": index,
            "title": title if isinstance(title, str) else "",
        }
        for issue in issues:
            group = groups.setdefault(
                (issue.field, issue.issue),
                {
                    "field": issue.field,
                    "issue": issue.issue,
                    "suggestion": issue.suggestion,
                    "affected_product_count": 0,
                    "affected_product_item_list": [],
                },
            )
            group["affected_product_count"] += 1
            if item_limit is None or len(group["affected_product_item_list"]) < item_limit:
                group["affected_product_item_list"].append(item)
    return list(groups.values())


def feed_log_rows(failed: list[tuple[dict[str, Any], int, list[ProductIssue]]]) -> list[dict[str, Any]]:
    """The rows of the feed log's file: one per (failed product, issue), every failed product."""
    rows = []
    for product, index, issues in failed:
        for issue in issues:
            sku_id, title = product.get("sku_id"), product.get("title")
            rows.append(
                {
                    "index": index,
                    "sku_id": sku_id if isinstance(sku_id, str) else "",
                    "title": title if isinstance(title, str) else "",
                    "field": issue.field,
                    "issue": issue.issue,
                    "suggestion": issue.suggestion,
                }
            )
    return rows


def feed_log_csv(rows: list[dict[str, Any]]) -> bytes:
    """The file behind `download_path`: CSV with a header row (the format is unconfirmed, tiktok-api.md)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FEED_LOG_FILE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


# -- review -------------------------------------------------------------------------------------
PROHIBITED_WORDS = ("replica", "counterfeit")


def prohibited_words_rule(words: tuple[str, ...] = PROHIBITED_WORDS) -> RejectionRule:
    """Reject products whose title or description names a prohibited kind of goods."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)

    def rule(fields: dict[str, Any]) -> tuple[str, str] | None:
        text = f"{fields.get('title') or ''}\n{fields.get('description') or ''}"
        if not pattern.search(text):
            return None
        return (
            "Prohibited product: counterfeit goods or replicas of branded products are not allowed.",
            "Remove counterfeit or replica items from your catalog. If the product is genuine, edit its "
            "title and description so they do not describe it as a replica, then sync it again.",
        )

    return rule


def ad_creation_eligible(audit_status: str, fields: dict[str, Any]) -> str:
    """TikTok's rule: AVAILABLE only when approved, activated and in an orderable availability."""
    if audit_status == "approved" and fields.get("availability") in AD_ELIGIBLE_AVAILABILITY:
        return "AVAILABLE"
    return "NOT_AVAILABLE"


def product_view(product: CatalogProduct) -> dict[str, Any]:
    """One item of catalog/product/get: the uploaded fields plus TikTok's review state."""
    view = copy.deepcopy(product.fields)
    audit: dict[str, Any] = {"audit_status": product.audit_status}
    if product.audit_status == "rejected":  # TikTok returns reject_info only for rejected items
        audit["reject_info"] = copy.deepcopy(product.reject_info)
    view.update(
        product_id=product.product_id,
        audit=audit,
        active_status="ACTIVATED",
        ad_creation_eligible=ad_creation_eligible(product.audit_status, product.fields),
        image_status=product.image_status,
    )
    return view


def feed_log_view(log: FeedLog, *, done: bool, file_url: str) -> dict[str, Any]:
    """catalog/product/log's `product_feed_log`. Counts and errors appear only once processing is
    over, as with TikTok's asynchronous feeds; no errors is `null`, as in TikTok's examples, and
    `download_path` is `{}`; with errors it maps "en" to `file_url`, the full list."""
    errors = done and bool(log.error_count)
    return {
        "catalog_id": log.catalog_id,
        "feed_log_id": log.feed_log_id,
        "process_status": "SUCCESS" if done else "PROCESSING",
        "update_mode": "INCREASE",
        "add_count": log.add_count if done else 0,
        "update_count": log.update_count if done else 0,
        "delete_count": log.delete_count if done else 0,
        "error_count": log.error_count if done else 0,
        "warn_count": 0,
        "start_time": utc_text(log.created_at),
        "end_time": utc_text(log.ready_at) if done else "",
        "feed_log_data": {
            "error_affected_products": copy.deepcopy(log.error_affected_products) if errors else None,
            "warn_affected_products": None,
            "download_path": {"en": file_url} if errors else {},
        },
    }


def utc_text(timestamp: float) -> str:
    """TikTok's "YYYY-MM-DD HH:MM:SS" (UTC) time format."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp))


# -- images -------------------------------------------------------------------------------------
def image_size(head: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) read from the first bytes of a PNG or JPEG, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return "png", width, height
    if head.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(head):
            if head[pos] != 0xFF:
                pos += 1
                continue
            marker = head[pos + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                pos += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", head[pos + 2 : pos + 4])[0]
            # SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", head[pos + 5 : pos + 9])
                return "jpeg", width, height
            pos += 2 + length
    return None


def fetch_image_status(url: str, timeout: float = 2.0) -> str:
    """TikTok's `image_status` for `url`, found by reading the image header over HTTP.

    Opt-in (set `TikTokSandbox.image_checker`), for the local run where the sandbox Ecwid serves real
    images. Only loopback hosts are fetched: the sandbox never reaches the internet, and any other
    host is taken as a good image.
    """
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        return "SUCCESS"
    request = urllib.request.Request(url, headers={"Range": "bytes=0-262143"})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            head = response.read(262_144)
    except urllib.error.HTTPError as error:
        return "NO_FOUND" if error.code in (403, 404, 410) else "FAIL"
    except (urllib.error.URLError, OSError):
        return "FAIL"
    size = image_size(head)
    if size is None:
        return "NOT_SUPPORTED"
    _, width, height = size
    return "SUCCESS" if min(width, height) >= MIN_IMAGE_SIDE else "FILTERED"
