"""Items the release before issue 9 wrote to the stores table are read the same way now, so a deploy needs no
migration. The items below are what that release's adapters wrote (DynamoDB's attribute values), by kind."""

from __future__ import annotations

from typing import Any

from tiktok_channel.adapters.dynamo_items import from_item
from tiktok_channel.models.catalog import SkuRecord, SyncRun
from tiktok_channel.models.cleanup import CleanupItem
from tiktok_channel.models.store import CatalogTarget, Store

STORE_ITEM: dict[str, Any] = {
    "pk": {"S": "STORE#1003"},
    "sk": {"S": "STORE"},
    "store_id": {"N": "1003"},
    "status": {"S": "connected"},
    "epoch": {"N": "4"},
    "country": {"S": "US"},
    "currency": {"S": "USD"},
    "store_name": {"S": "Demo"},
    "store_url": {"S": "https://demo.example"},
    "email": {"S": "o@example.com"},
    "ecwid_token": {"B": b"\x01cipher-ecwid"},
    "ecwid_scope": {"S": "read_catalog"},
    "phone": {"B": b"\x01cipher-phone"},
    "connected_shard": {"S": "SHARD#11"},
    "tiktok": {
        "M": {
            "access_token": {"B": b"\x01cipher-tiktok"},
            "advertiser_ids": {"L": [{"S": "7001"}]},
            "bc_id": {"S": "7100"},
            "adv_id": {"S": "7001"},
            "catalog_id": {"S": "7200"},
            "pixel_code": {"S": "PX1"},
            "catalog_currency": {"S": "USD"},
            "catalog_region": {"S": "US"},
            "via_business_profile": {"BOOL": True},
            "connected_at": {"S": "2026-11-01T10:00:00+00:00"},
        }
    },
    "sync": {
        "M": {
            "state": {"S": "idle"},
            "done": {"N": "12"},
            "total": {"N": "12"},
            "last_finished_at": {"S": "2026-11-29T10:00:00+00:00"},
            "last_result": {"S": "Synced 12 products"},
        }
    },
    "products": {"M": {"listed": {"N": "10"}, "pending": {"N": "1"}, "rejected": {"N": "1"}, "held_back": {"N": "2"}}},
    "storefront_state": {"S": "submitted"},
    "notice": {"M": {"code": {"S": "catalog_frozen"}, "message": {"S": "Your store currency changed"}}},
    "remote_cleanup": {"M": {"state": {"S": "done"}, "attempts": {"N": "1"}}},
    "installed_at": {"S": "2026-10-01T00:00:00+00:00"},
    "updated_at": {"S": "2026-11-29T10:00:00+00:00"},
    "version": {"N": "9"},
}
SKU_ITEM: dict[str, Any] = {
    "pk": {"S": "STORE#1003"},
    "sk": {"S": "SKU#561234-77"},
    "sku_id": {"S": "561234-77"},
    "product_id": {"N": "561234"},
    "title": {"S": "Tee (Red)"},
    "status": {"S": "rejected"},
    "on_tiktok": {"BOOL": True},
    "hash": {"S": "abc"},
    "reasons": {"L": [{"M": {"message": {"S": "Image too small"}, "suggestion": {"S": "Use 500x500"}}}]},
    "updated_at": {"S": "2026-11-29T10:00:00+00:00"},
    "sku_status": {"S": "STORE#1003#rejected"},
}
RUN_ITEM: dict[str, Any] = {
    "pk": {"S": "STORE#1003"},
    "sk": {"S": "RUN#j1"},
    "job_id": {"S": "j1"},
    "mode": {"S": "replace"},
    "hidden_category_ids": {"L": [{"N": "5"}]},
    "offset": {"N": "200"},
    "total": {"N": "350"},
    "part": {"N": "1"},
    "uploaded": {"N": "150"},
    "deleted": {"N": "2"},
    "started_at": {"S": "2026-11-29T10:00:00+00:00"},
    "expires_at": {"N": "1796000000"},
}
CLEANUP_ITEM: dict[str, Any] = {
    "pk": {"S": "STORE#1003"},
    "sk": {"S": "CLEANUP#c1"},
    "store_id": {"N": "1003"},
    "cleanup_id": {"S": "c1"},
    "epoch": {"N": "5"},
    "source": {"S": "connection"},
    "reason": {"S": "disconnect"},
    "access_token": {"B": b"\x01cipher"},
    "outcomes": {"M": {"shop_disconnect": {"S": "done"}}},
    "attempts": {"N": "2"},
    "last_error": {"S": "TikTokUnavailable"},
    "created_at": {"S": "2026-11-29T10:00:00+00:00"},
}


def test_a_connected_store_written_before_reads_with_its_connection_and_catalog():
    store = Store.model_validate(from_item(STORE_ITEM))
    assert (store.store_id, store.status, store.epoch, store.version) == (1003, "connected", 4, 9)
    assert store.tiktok is not None
    assert store.tiktok.access_token == b"\x01cipher-tiktok"
    assert store.products.held_back == 2
    assert store.notice is not None
    assert store.notice.code == "catalog_frozen"
    target = CatalogTarget.of(store)
    assert (target.bc_id, target.catalog_id, target.currency) == ("7100", "7200", "USD")


def test_sku_run_and_cleanup_items_written_before_read_the_same():
    sku = SkuRecord.model_validate(from_item(SKU_ITEM))
    assert (sku.sku_id, sku.product_id, sku.status, sku.on_tiktok, sku.hash) == (
        "561234-77",
        561234,
        "rejected",
        True,
        "abc",
    )
    assert [(r.message, r.suggestion) for r in sku.reasons] == [("Image too small", "Use 500x500")]
    run = SyncRun.model_validate(from_item(RUN_ITEM))
    assert (run.mode, run.offset, run.total, run.part, run.hidden_category_ids) == ("replace", 200, 350, 1, [5])
    cleanup = CleanupItem.model_validate(from_item(CLEANUP_ITEM))
    # No catalog recorded before the catalog step existed: that step completes as "no_catalog", calling nothing.
    assert cleanup.steps_left == ["catalog_delete", "profile_disconnect", "revoke_token"]
    assert (cleanup.bc_id, cleanup.catalog_id) == (None, None)
