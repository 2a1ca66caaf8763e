"""Review of issues 13 and 14: faults found by trying to break the pixel's purchases and the merchant's switch.

Each test shows one fault over the fakes; the fix is in the same commit.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, deliver, install_store, next_message, work_on
from tests.fast.test_sync import connect, on_tiktok, sku
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.visibility import switch_category


# -- a category switched during a full sync ------------------------------------------------------------------------
@pytest.mark.parametrize("show", [False, True])
def test_a_category_switch_during_a_long_full_sync_is_kept_by_the_syncs_later_parts(
    services: FakeServices, monkeypatch: pytest.MonkeyPatch, show: bool
):
    install_store(services)
    ecwid = services.ecwid()
    sale = ecwid.add_category(STORE_ID)
    products = [ecwid.add_product(STORE_ID, f"Sale item {n}", category_ids=[sale]) for n in range(250)]
    connect(services)
    if show:  # the category starts off TikTok, and the merchant shows it during the sync
        switch_category(services, STORE_ID, sale, show=False)
        deliver(services)
        assert on_tiktok(services) == {}

    request_sync(services, STORE_ID)
    first_part = next_message(services)
    page = ecwid.product_page
    switched: list[bool] = []

    def page_while_the_merchant_switches(*args: Any, **kwargs: Any) -> Any:
        if not switched:  # the merchant presses the category's switch while the sync's first part runs
            switched.append(switch_category(services, STORE_ID, sale, show=show) > 0)
        return page(*args, **kwargs)

    monkeypatch.setattr(ecwid, "product_page", page_while_the_merchant_switches)
    assert work_on(services, first_part, seconds=30.0) == "continued"
    monkeypatch.setattr(ecwid, "product_page", page)
    deliver(services)  # the switch's job, then the sync's next parts

    assert switched == [True]
    expected = {sku(p) for p in products} if show else set()
    assert set(on_tiktok(services)) == expected
