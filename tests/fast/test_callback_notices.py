"""Issue 12, item 1: a TikTok callback that did not go through sends the merchant back to the app page inside the
Ecwid admin with a notice code the page shows a message for, carried in Ecwid's `app_state` (ecwid-api.md,
"Native admin page": Ecwid opens the app's iframe with the `app_state` its admin URL was given)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tiktok_channel.api.callbacks import with_notice


def test_in_the_ecwid_admins_deep_link_the_notice_is_one_more_fragment_parameter():
    url = with_notice("https://my.ecwid.com/store/1003#app:name=tiktok-channel", "connect_cancelled")
    assert url == "https://my.ecwid.com/store/1003#app:name=tiktok-channel&app_state=tiktok_notice%3Dconnect_cancelled"


@pytest.mark.parametrize(
    "page",
    [
        "http://127.0.0.1:8101/_sandbox/stores/1003/open-app?app_url=x",
        "https://example.com/tiktok",
        "https://e.com/a#x",
    ],
)
def test_any_other_page_gets_it_as_a_query_parameter_the_admin_stand_in_passes_on(page: str):
    parts = urlsplit(with_notice(page, "state_expired"))
    [state] = parse_qs(parts.query)["app_state"]
    assert parse_qs(state) == {"tiktok_notice": ["state_expired"]}
    assert parts.fragment == urlsplit(page).fragment
