"""The merchant's TikTok page (GET /app): server-rendered HTML with a little JavaScript, no build step.

The page's files sit beside this module (page.html, page.css, page.js, plain.html) and are read once per
cold start. The HTML never carries a session: the script exchanges Ecwid's payload for one through
POST /api/session, keeps the payload in memory only, and removes it from the address bar.
"""

from __future__ import annotations

import secrets
from functools import cache
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

_HERE = Path(__file__).parent

# Ecwid's admin app CSS framework and JS SDK (ecwid-api.md, "Native admin page").
ECWID_CDN = "https://d35z3p2poghz10.cloudfront.net"
ECWID_APP_CSS = f"{ECWID_CDN}/ecwid-sdk/css/1.3.19/ecwid-app-ui.css"
ECWID_APP_JS = f"{ECWID_CDN}/ecwid-sdk/js/1.2.9/ecwid-app.js"
ECWID_ADMIN_ORIGINS = ("https://my.ecwid.com", "https://*.ecwid.com")


@cache
def _file(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


def frame_ancestors(app_page_url: str) -> str:
    """Who may frame the page: the Ecwid admin, and wherever ECWID_APP_PAGE_URL points (a stand-in, locally)."""
    parts = urlsplit(app_page_url)
    origins = list(ECWID_ADMIN_ORIGINS)
    if parts.scheme in ("http", "https") and parts.netloc:
        own = f"{parts.scheme}://{parts.netloc}"
        if own not in origins:
            origins.append(own)
    return " ".join(origins)


def security_headers(nonce: str, ancestors: str) -> dict[str, str]:
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src 'nonce-{nonce}' {ECWID_CDN}",
            f"style-src 'nonce-{nonce}' {ECWID_CDN}",
            f"font-src {ECWID_CDN} data:",
            f"img-src 'self' data: {ECWID_CDN}",
            "connect-src 'self'",
            "form-action 'none'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        # The first URL carries Ecwid's payload: no request made from the page may pass it on.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Strict-Transport-Security": "max-age=31536000",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }


def merchant_page(*, store_id: int, app_id: str, app_page_url: str) -> tuple[str, dict[str, str]]:
    """The page for one store, and its headers (a fresh CSP nonce each time)."""
    nonce = secrets.token_urlsafe(18)
    html = Template(_file("page.html")).substitute(
        nonce=nonce,
        store_id=str(store_id),
        app_id=escape(app_id),
        ecwid_css=ECWID_APP_CSS,
        ecwid_js=ECWID_APP_JS,
        css=_file("page.css"),
        script=_file("page.js"),
    )
    return html, security_headers(nonce, frame_ancestors(app_page_url))


def plain_page(title: str, message: str, *, app_page_url: str) -> tuple[str, dict[str, str]]:
    """A page with no script and no session: what went wrong and what to do."""
    nonce = secrets.token_urlsafe(18)
    html = Template(_file("plain.html")).substitute(
        nonce=nonce, title=escape(title), message=escape(message), css=_file("page.css")
    )
    return html, security_headers(nonce, frame_ancestors(app_page_url))
