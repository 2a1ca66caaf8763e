"""Binding a pixel to a catalog on the sandbox TikTok (tiktok-api.md "Pixel ↔ catalog")."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandboxes.tiktok import TikTokSandbox
from tests.sandboxes.test_tiktok_sandbox import call, connect, ok, profile
from tests.sandboxes.test_tiktok_sandbox import client as client  # the module's fixtures
from tests.sandboxes.test_tiktok_sandbox import tiktok as tiktok


class Account:
    """A connected store: token, Business Center, ad account, pixel and catalog of its hosted setup."""

    def __init__(self, tiktok: TikTokSandbox, client: httpx.Client, external_business_id: str = "1003") -> None:
        self.client = client
        self.token = connect(tiktok, client, external_business_id=external_business_id)
        data = profile(client, self.token, external_business_id)
        self.bc_id, self.advertiser_id = str(data["bc_id"]), str(data["adv_id"])
        self.catalog_id, self.pixel_code = str(data["catalog_id"]), str(data["pixel_code"])

    def body(self, **overrides: str) -> dict[str, str]:
        return {
            "advertiser_id": self.advertiser_id,
            "bc_id": self.bc_id,
            "catalog_id": self.catalog_id,
            "pixel_code": self.pixel_code,
            **overrides,
        }

    def bind(self, **overrides: str) -> dict[str, Any]:
        return call(self.client, "POST", "/catalog/eventsource/bind/", self.token, json=self.body(**overrides))

    def unbind(self, **overrides: str) -> dict[str, Any]:
        return call(self.client, "POST", "/catalog/eventsource/unbind/", self.token, json=self.body(**overrides))

    def read(self, catalog_id: str | None = None) -> dict[str, Any]:
        params = {"bc_id": self.bc_id, "catalog_id": catalog_id or self.catalog_id}
        return call(self.client, "GET", "/catalog/eventsource_bind/get/", self.token, params=params)


@pytest.fixture
def account(tiktok: TikTokSandbox, client: httpx.Client) -> Account:
    return Account(tiktok, client)


def test_bind_read_and_unbind(tiktok: TikTokSandbox, account: Account) -> None:
    assert ok(account.read()) == {"catalog_id": account.catalog_id, "event_sources": []}
    assert ok(account.bind()) == {}
    assert tiktok.bindings(account.catalog_id) == [account.pixel_code]
    [source] = ok(account.read())["event_sources"]
    assert source == {
        "event_source_name": tiktok.pixels[account.pixel_code].pixel_name,
        "pixel_code": account.pixel_code,
        "app_id": "",
    }
    assert ok(account.unbind()) == {}
    assert tiktok.bindings(account.catalog_id) == []
    assert ok(account.read())["event_sources"] == []


def test_binding_twice_or_unbinding_an_unbound_pixel_is_refused(tiktok: TikTokSandbox, account: Account) -> None:
    refused = account.unbind()
    assert refused["code"] == 40002
    assert refused["message"].startswith("pixel_code:")
    ok(account.bind())
    again = account.bind()
    assert again["code"] == 40002
    assert "already bound" in again["message"]
    assert tiktok.bindings(account.catalog_id) == [account.pixel_code]


def test_a_second_pixel_of_the_advertiser_binds_too(
    tiktok: TikTokSandbox, account: Account, client: httpx.Client
) -> None:
    created = ok(
        call(
            client,
            "POST",
            "/pixel/create/",
            account.token,
            json={"advertiser_id": account.advertiser_id, "pixel_name": "Second"},
        )
    )
    ok(account.bind())
    ok(account.bind(pixel_code=created["pixel_code"]))
    assert tiktok.bindings(account.catalog_id) == [account.pixel_code, created["pixel_code"]]


def test_another_merchants_advertiser_catalog_or_pixel_is_refused(
    tiktok: TikTokSandbox, account: Account, client: httpx.Client
) -> None:
    other = Account(tiktok, client, external_business_id="2000")
    for change in (
        {"advertiser_id": other.advertiser_id},  # the token cannot use that advertiser
        {"catalog_id": other.catalog_id},  # not a catalog of this bc_id
        {"bc_id": other.bc_id},  # not the token's Business Center
        {"pixel_code": other.pixel_code},  # not this advertiser's pixel
        {"pixel_code": "CUNKNOWN000000000000"},
    ):
        tiktok.clock.advance(1.01)  # clear of the 10 QPS default limit
        answer = account.bind(**change)
        assert answer["code"] == 40001, change
        assert next(iter(change)) in answer["message"], (change, answer["message"])
    tiktok.clock.advance(1.01)
    assert account.read(other.catalog_id)["code"] == 40001
    assert account.bind(pixel_code="")["code"] == 40002
    assert tiktok.bindings(account.catalog_id) == tiktok.bindings(other.catalog_id) == []


def test_token_without_catalog_scope_or_revoked_is_refused(tiktok: TikTokSandbox, account: Account) -> None:
    tiktok.revoke(account.token)
    assert account.bind()["code"] == 40105


def test_a_new_catalog_starts_unbound(tiktok: TikTokSandbox, account: Account, client: httpx.Client) -> None:
    ok(account.bind())
    # The merchant sets the store up again with another currency: the hosted setup creates a new catalog.
    token = connect(tiktok, client, currency="USD")
    data = profile(client, token)
    assert data["catalog_id"] != account.catalog_id
    assert tiktok.bindings(str(data["catalog_id"])) == []
    fresh = call(
        client,
        "GET",
        "/catalog/eventsource_bind/get/",
        token,
        params={"bc_id": data["bc_id"], "catalog_id": data["catalog_id"]},
    )
    assert ok(fresh)["event_sources"] == []
    assert tiktok.bindings(account.catalog_id) == [account.pixel_code]
