"""The app's storefront script (GET /storefront.js, Ecwid's "custom JS" for the app).

Ecwid runs the file on every storefront page of every store that installed the app (ecwid-api.md, "Storefront
JavaScript (the app's own script)"), so one rendering serves every store: what differs per store (the pixel code
and currency) is read in the browser from the app's public storage value, JSON `{"pixel_code": "…",
"currency": "USD"}` (ecwid-api.md "App storage"; design.md, the contract's "Pixel" paragraph). What differs per
deployment is filled in here:

- `"{{CLIENT_ID}}"`: the Ecwid app's client_id, the key `Ecwid.getAppPublicConfig` reads the public value with.
- `"{{PIXEL_SCRIPT_URL}}"`: TikTok's pixel SDK, `https://analytics.tiktok.com/i18n/pixel/events.js` in production
  (tiktok-api.md "Pixel in the browser"); the sandbox TikTok's copy locally.
- `"{{PURCHASE_EVENT}}"`: `CompletePayment` or `Purchase` (tiktok-api.md: keep it a setting; the server's
  TIKTOK_PURCHASE_EVENT, so browser and Events API send the same event name and TikTok deduplicates them).
- `"{{PARTNER_NAME}}"`: what the script sets as `ttq._partner` (tiktok-api.md: partners tag themselves).

Each placeholder is a whole JavaScript string literal, quotes included, and is replaced by the value's JSON
encoding with `<`, `>` and `&` escaped too, so no value can end the string or, if the file is ever inlined in
HTML, the script element.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

# design.md "HTTP API": /storefront.js is served with Cache-Control: public and a max-age of at least 300 s.
STOREFRONT_CACHE_SECONDS = 600

PURCHASE_EVENTS = ("CompletePayment", "Purchase")
LOCAL_HOSTS = ("127.0.0.1", "localhost")
PLACEHOLDERS = ("CLIENT_ID", "PIXEL_SCRIPT_URL", "PURCHASE_EVENT", "PARTNER_NAME")

_PLACEHOLDER = re.compile(r'"\{\{([A-Z_]+)\}\}"')
_HTML_SENSITIVE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


@cache
def _source() -> str:
    """storefront.js as shipped beside this module (package data), read once per cold start."""
    return files("tiktok_channel.web").joinpath("storefront.js").read_text(encoding="utf-8")


def _js_string(value: str) -> str:
    """A JavaScript string literal for `value`: JSON (ASCII only, so U+2028/U+2029 are escaped too) with the
    characters that matter to an HTML parser escaped as well."""
    encoded = json.dumps(value, ensure_ascii=True)
    return re.sub(r"[<>&]", lambda m: _HTML_SENSITIVE[m.group(0)], encoded)


def _check_pixel_script_url(url: str) -> None:
    """https://… anywhere; plain http only on this machine (the local run's sandbox TikTok). The script appends
    `?sdkid=<code>&lib=ttq` itself, so the URL carries no query, fragment or credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https" and bool(host)
    local = parts.scheme == "http" and host in LOCAL_HOSTS
    if not (secure or local) or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            "pixel_script_url must be an https:// URL (http:// only for 127.0.0.1 or localhost) without query, "
            "fragment or credentials"
        )
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValueError("pixel_script_url must not contain whitespace or control characters")


def render_storefront_script(
    *, client_id: str, pixel_script_url: str, purchase_event: str, partner_name: str = "Ecwid"
) -> str:
    """The storefront script for this deployment, as served (application/javascript).

    - client_id: the Ecwid app's client_id (any non-empty string; it is JSON-encoded, never trusted as code).
    - pixel_script_url: TikTok's pixel SDK URL, e.g. https://analytics.tiktok.com/i18n/pixel/events.js.
    - purchase_event: "CompletePayment" or "Purchase" (TIKTOK_PURCHASE_EVENT, design.md "Configuration").
    - partner_name: the `ttq._partner` tag.

    Raises ValueError for an empty client_id or partner_name, a URL that is neither https nor local http, or an
    unknown purchase event. The result depends only on the arguments and is cached.
    """
    if not isinstance(client_id, str) or not client_id:
        raise ValueError("client_id must be a non-empty string")
    if not isinstance(partner_name, str) or not partner_name:
        raise ValueError("partner_name must be a non-empty string")
    if purchase_event not in PURCHASE_EVENTS:
        raise ValueError(f"purchase_event must be one of {', '.join(PURCHASE_EVENTS)}")
    _check_pixel_script_url(pixel_script_url)
    return _render(client_id, pixel_script_url, purchase_event, partner_name)


@cache
def _render(client_id: str, pixel_script_url: str, purchase_event: str, partner_name: str) -> str:
    values = {
        "CLIENT_ID": client_id,
        "PIXEL_SCRIPT_URL": pixel_script_url,
        "PURCHASE_EVENT": purchase_event,
        "PARTNER_NAME": partner_name,
    }
    # One pass over the file: a value that happens to contain "{{…}}" is never substituted again.
    return _PLACEHOLDER.sub(lambda m: _js_string(values[m.group(1)]), _source())
