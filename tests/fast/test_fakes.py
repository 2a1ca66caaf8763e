"""The fakes refuse what the real adapters and services refuse, so no fast test passes because a fake is lenient."""

from __future__ import annotations

import pytest

from tests.fakes import AwsClientError, FakeServices
from tests.fast.steps import STORE_ID, install_store, store_of
from tiktok_channel.errors import (
    ConcurrentUpdate,
    EcwidAccessLost,
    NotConnected,
    TikTokAuthCodeInvalid,
    TikTokRequestRejected,
    TikTokTokenRevoked,
)
from tiktok_channel.models.messages import SyncMessage
from tiktok_channel.models.store import Notice, SyncState
from tiktok_channel.models.storefront import StorefrontMove


def test_a_store_item_written_by_someone_else_meanwhile_is_not_overwritten(services: FakeServices):
    install_store(services)
    read = store_of(services)
    services.stores.save_installation(read, expected_version=read.version)

    with pytest.raises(ConcurrentUpdate):
        services.stores.save_installation(read, expected_version=read.version)
    with pytest.raises(ConcurrentUpdate):
        services.stores.save_installation(read, expected_version=None)


def test_writes_of_an_older_connection_are_refused(connected: FakeServices):
    old_epoch = store_of(connected).epoch - 1
    before = connected.table.snapshot()

    for write in (
        lambda: connected.stores.save_sync(STORE_ID, old_epoch, SyncState()),
        lambda: connected.stores.add_counts(STORE_ID, old_epoch, {"pending": 1}, now="2026-09-21T00:00:00+00:00"),
        lambda: connected.stores.set_notice(STORE_ID, old_epoch, Notice(code="c", message="m")),
    ):
        with pytest.raises(ConcurrentUpdate):
            write()
    assert connected.table.snapshot() == before


def test_only_a_connected_store_gets_a_sync_queued(services: FakeServices):
    install_store(services)
    with pytest.raises(NotConnected):
        services.stores.queue_sync(STORE_ID, "job", "2026-09-21T14:13:20+00:00", "2026-09-21T11:13:20+00:00")
    with pytest.raises(NotConnected):
        services.stores.queue_sync(4242, "job", "2026-09-21T14:13:20+00:00", "2026-09-21T11:13:20+00:00")


def test_a_pending_connection_moves_only_with_its_own_nonce(connected: FakeServices):
    with pytest.raises(ConcurrentUpdate):
        connected.connections.update_pending(STORE_ID, "another-nonce", catalog_id="1")


def test_a_value_boto3_cannot_serialize_writes_nothing(connected: FakeServices):
    before = connected.table.snapshot()
    with pytest.raises(TypeError, match="Float"):
        connected.storefronts.move(
            STORE_ID,
            from_states={"not_applied"},
            move=StorefrontMove(state="submitted", at="2026-09-21T14:13:20+00:00", by="merchant"),
            require_connected=True,
            sets={"score": 0.5},
        )
    assert connected.table.snapshot() == before


def test_a_ciphertext_opens_only_for_its_store_and_field(services: FakeServices):
    sealed = services.cipher.encrypt("secret_token", store_id=STORE_ID, field="ecwid_token")

    assert b"secret_token" not in sealed
    assert services.cipher.decrypt(sealed, store_id=STORE_ID, field="ecwid_token") == "secret_token"
    assert sealed != services.cipher.encrypt("secret_token", store_id=STORE_ID, field="ecwid_token")
    for store_id, field in ((2004, "ecwid_token"), (STORE_ID, "tiktok_token")):
        with pytest.raises(AwsClientError, match="InvalidCiphertext"):
            services.cipher.decrypt(sealed, store_id=store_id, field=field)  # type: ignore[arg-type]


def test_ecwid_refuses_a_token_of_another_store(services: FakeServices):
    install_store(services)
    install_store(services, 2004)

    with pytest.raises(EcwidAccessLost) as refused:
        services.ecwid().get_profile(2004, services.ecwid().token_for(STORE_ID))
    assert (refused.value.status, refused.value.error_code) == (403, "INVALID_API_TOKEN")  # as ecwid-api.md says


def test_ecwid_refuses_a_revoked_token_and_a_suspended_store_with_its_codes(services: FakeServices):
    install_store(services)
    ecwid = services.ecwid()
    token = ecwid.token_for(STORE_ID)
    ecwid.stores[STORE_ID].suspended = True
    with pytest.raises(EcwidAccessLost) as suspended:
        ecwid.get_profile(STORE_ID, token)
    assert (suspended.value.status, suspended.value.error_code) == (402, "STORE_IS_SUSPENDED")

    ecwid.revoke_tokens(STORE_ID)  # the app uninstalled: the token is refused before the suspension is told
    with pytest.raises(EcwidAccessLost) as revoked:
        ecwid.get_profile(STORE_ID, token)
    assert (revoked.value.status, revoked.value.error_code) == (403, "INVALID_API_TOKEN")


def test_tiktok_codes_are_single_use_and_tokens_die_when_revoked(services: FakeServices):
    tiktok = services.tiktok()
    code = tiktok.authorize(str(STORE_ID))
    token = tiktok.exchange_auth_code(code).access_token.get_secret_value()

    with pytest.raises(TikTokAuthCodeInvalid):
        tiktok.exchange_auth_code(code)
    tiktok.revoke_token(token)
    tiktok.revoke_token(token)  # TikTok lets a retried revocation succeed
    with pytest.raises(TikTokTokenRevoked):
        tiktok.list_business_centers(token)


def test_tiktok_refuses_a_catalog_outside_the_tokens_business_centers(connected: FakeServices):
    tiktok = connected.tiktok()
    other_code = tiktok.authorize("2004")
    other = tiktok.exchange_auth_code(other_code).access_token.get_secret_value()
    mine = tiktok.catalog_of(str(STORE_ID))

    with pytest.raises(TikTokRequestRejected) as error:
        tiktok.upload_products(other, bc_id=mine.bc_id, catalog_id=mine.catalog_id, products=[{"sku_id": "1"}])
    assert error.value.code == 40001


def test_tiktok_validates_uploads_and_reports_them_in_the_feed_log(connected: FakeServices):
    tiktok = connected.tiktok()
    catalog = tiktok.catalog_of(str(STORE_ID))
    [token] = [t for t, grant in tiktok.tokens.items() if not grant.revoked]

    # An empty required value refuses the whole request, as TikTok's own plugins guard against (tiktok-api.md).
    with pytest.raises(TikTokRequestRejected) as refused:
        tiktok.upload_products(
            token, bc_id=catalog.bc_id, catalog_id=catalog.catalog_id, products=[{"sku_id": "x", "title": "No price"}]
        )
    assert refused.value.code == 40002
    assert refused.value.detail.startswith("products.")
    assert catalog.uploads == []

    tiktok.request_refusal_rules.clear()  # other problems are the product's, in the feed log
    log_id = tiktok.upload_products(
        token, bc_id=catalog.bc_id, catalog_id=catalog.catalog_id, products=[{"sku_id": "x", "title": "No price"}]
    )
    log = tiktok.feed_log(token, bc_id=catalog.bc_id, catalog_id=catalog.catalog_id, feed_log_id=log_id)
    assert (log.done, log.error_count, log.add_count) == (True, 1, 0)
    assert {issue.field for issue in log.issues} >= {"price_info", "image_url", "landing_page_url"}
    assert "x" not in catalog.products
    assert log.file_url is not None
    assert {row.sku_id for row in tiktok.feed_log_file(log.file_url)} == {"x"}


def test_the_queue_refuses_ids_sqs_refuses(services: FakeServices):
    with pytest.raises(AwsClientError, match="InvalidParameterValue"):
        services.queue.send(SyncMessage(store_id=STORE_ID, epoch=1, job_id="a job id with spaces"))
