"""How a route a browser reaches (the OAuth callbacks) answers: a redirect to the store's app page, with a notice
when something went wrong, or a plain HTML page when the store cannot be known; never JSON."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

import httpx

from tests.app_stack import APP_PAGE_URL

NOTICE = "tiktok_notice"


def notice_of(location: str) -> str | None:
    """The notice code a redirect carries to the app page, in Ecwid's `app_state` (query or admin deep link)."""
    parts = urlsplit(location)
    fragment = parts.fragment.split("&", 1)[1] if parts.fragment.startswith("app:") and "&" in parts.fragment else ""
    states = parse_qs(parts.query).get("app_state", []) + parse_qs(fragment).get("app_state", [])
    notices = [code for state in states for code in parse_qs(state).get(NOTICE, [])]
    assert len(notices) <= 1, location
    return notices[0] if notices else None


def assert_back_on_the_page(answer: httpx.Response, store_id: int, notice: str | None = None) -> None:
    """A 302 to the store's app page, carrying `notice` (the code the page shows a message for), or none."""
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert notice_of(location) == notice
    parts = urlsplit(location)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "app_state"]
    fragment = parts.fragment.split("&app_state=", 1)[0]
    rest = parts._replace(query="&".join(f"{k}={v}" for k, v in query), fragment=fragment)
    assert urlunsplit(rest) == APP_PAGE_URL.replace("{store_id}", str(store_id))


def assert_plain_page(answer: httpx.Response, status: int, *phrases: str) -> str:
    """A plain HTML page with this status that says what happened (each of `phrases`); no script, no JSON."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "<script" not in answer.text
    assert '"error"' not in answer.text
    for phrase in phrases:
        assert phrase in answer.text
    return answer.text
