"""What the merchant page reads: the store status (services/status.py) and one status's products, page by page
(services/products.py)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import STORE_ID, connect_store, connected_store, deliver, install_store, refused
from tiktok_channel.errors import AppError
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.products import PAGE_SIZE, list_products
from tiktok_channel.services.status import store_status


def test_an_installed_store_shows_its_eligibility_and_no_tiktok_yet(services: FakeServices):
    install_store(services)

    assert store_status(services, STORE_ID) == {
        "store_id": STORE_ID,
        "status": "installed",
        "eligibility": {"country": "US", "currency": "USD", "catalog_allowed": True, "shopping_allowed": True},
        "products": {"listed": 0, "pending": 0, "rejected": 0, "held_back": 0},
        "sync": {
            "state": "idle",
            "done": 0,
            "total": 0,
            "last_finished_at": None,
            "last_result": None,
            "next_at": None,
            "waiting_edits": 0,
            "stalled": False,
        },
        "storefront": {"state": "not_applied"},
    }


def test_a_store_that_is_not_eligible_is_told_why(services: FakeServices):
    install_store(services, country="BR", currency="BRL")

    eligibility = store_status(services, STORE_ID)["eligibility"]
    assert (eligibility["catalog_allowed"], eligibility["shopping_allowed"]) == (False, False)
    assert "not available in your store's country" in eligibility["reason"]
    assert "Settings → General → Store address" in eligibility["reason"]  # what to change in Ecwid


def test_a_connected_store_shows_its_tiktok_side_its_counts_and_the_next_scheduled_sync(services: FakeServices):
    install_store(services)
    for n in range(3):
        services.ecwid().add_product(STORE_ID, f"Product {n}")
    connect_store(services)
    assert store_status(services, STORE_ID)["sync"]["state"] == "queued"
    deliver(services)

    status = store_status(services, STORE_ID)

    connection = services.tiktok().profiles[("ECWID", str(STORE_ID))]
    assert status["tiktok"] == {
        "business_center_url": f"https://business.tiktok.com/manage/overview?org_id={connection.bc_id}",
        "catalog_id": connection.catalog_id,
        "catalog_currency": "USD",
        "pixel_code": connection.pixel_code,
    }
    assert status["products"]["pending"] == 3
    assert status["sync"]["state"] == "idle"
    assert (status["sync"]["done"], status["sync"]["total"]) == (3, 3)
    assert status["sync"]["last_finished_at"] == "2026-09-21T14:13:20+00:00"
    assert status["sync"]["next_at"] == "2026-09-21T18:00:00+00:00"  # cron(0 6,18 * * ? *) after 14:13 UTC
    assert "job_id" not in status["sync"]


def test_a_store_whose_catalog_is_frozen_shows_why(services: FakeServices):
    connected_store(services)
    services.ecwid().set_currency(STORE_ID, "EUR")
    request_sync(services, STORE_ID)
    deliver(services)

    notice = store_status(services, STORE_ID)["notice"]
    assert notice["code"] == "catalog_frozen"
    assert "EUR" in notice["message"]


def test_a_store_that_never_installed_has_no_status(services: FakeServices):
    with pytest.raises(AppError) as error:
        store_status(services, STORE_ID)
    refused(error, 404, "store_not_found")


@pytest.fixture
def with_products(services: FakeServices) -> FakeServices:
    install_store(services)
    for n in range(120):
        services.ecwid().add_product(STORE_ID, f"Product {n}")
    services.ecwid().add_product(STORE_ID, "Tiny picture", image=(100, 100, "jpg"))
    connect_store(services)
    deliver(services)
    return services


def test_products_are_listed_per_status_page_by_page(with_products: FakeServices):
    pages, cursor = [], None
    while True:
        page = list_products(with_products, STORE_ID, "pending", cursor)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert [len(items) for items in pages] == [PAGE_SIZE, PAGE_SIZE, 20]
    skus = [item["sku_id"] for items in pages for item in items]
    assert skus == sorted(skus)
    assert len(set(skus)) == 120
    first = pages[0][0]
    assert set(first) == {"sku_id", "product_id", "title", "status", "reasons", "brand_from_store_name"}
    assert (first["status"], first["reasons"]) == ("pending", [])
    [held] = list_products(with_products, STORE_ID, "held_back", None)["items"]
    assert held["title"] == "Tiny picture"
    assert held["reasons"][0]["message"].startswith("Add an image of at least 500×500 px")


@pytest.mark.parametrize("status", [None, "", "approved", "LISTED", "held-back"])
def test_an_unknown_status_is_refused(with_products: FakeServices, status: str | None):
    with pytest.raises(AppError) as error:
        list_products(with_products, STORE_ID, status, None)
    refused(error, 400, "invalid_status")


def test_a_cursor_works_only_for_its_store_and_status(with_products: FakeServices):
    cursor = list_products(with_products, STORE_ID, "pending", None)["next_cursor"]
    assert cursor is not None
    body, _, mac = cursor.partition(".")

    for status, store_id, forged in [
        ("listed", STORE_ID, cursor),
        ("pending", 2004, cursor),
        ("pending", STORE_ID, f"{body}x.{mac}"),
        ("pending", STORE_ID, "not-a-cursor"),
    ]:
        with pytest.raises(AppError) as error:
            list_products(with_products, store_id, status, forged)
        refused(error, 400, "invalid_cursor")
