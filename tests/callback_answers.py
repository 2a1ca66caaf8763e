"""How a route a browser reaches (the OAuth callbacks) answers: a redirect to the store's app page, with a notice
when something went wrong, or a plain HTML page when the store cannot be known; never JSON."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from tests.app_stack import APP_PAGE_URL

NOTICE = "tiktok_notice"


def assert_back_on_the_page(answer: httpx.Response, store_id: int, notice: str | None = None) -> None:
    """A 302 to the store's app page, carrying `notice` (the code the page shows a message for), or none."""
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    query = parse_qs(location.query)
    assert query.pop(NOTICE, None) == ([notice] if notice else None)
    rest = location._replace(query="&".join(f"{k}={v[0]}" for k, v in query.items()))
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
