"""Full sync jobs (services/jobs.py): "Sync Products" and the schedule queue at most one job per store."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices
from tests.fast.steps import (
    STORE_ID,
    connect_store,
    connected_store,
    deliver,
    install_store,
    next_message,
    refused,
    store_of,
)
from tiktok_channel.errors import Conflict, NotFound
from tiktok_channel.services.disconnect import disconnect_store
from tiktok_channel.services.jobs import enqueue_scheduled_syncs, request_sync


def sync_messages(services: FakeServices) -> list[dict[str, Any]]:
    return [m for m in services.queue.waiting_fields() if m["kind"] == "sync"]


def test_sync_products_queues_one_full_sync_of_the_current_connection(connected: FakeServices):
    job = request_sync(connected, STORE_ID)

    assert (job.state, job.created) == ("queued", True)
    assert sync_messages(connected) == [
        {"kind": "sync", "store_id": STORE_ID, "epoch": 1, "job_id": job.job_id, "mode": "full", "part": 0}
    ]
    assert store_of(connected).sync.state == "queued"
    assert store_of(connected).sync.job_id == job.job_id


def test_asking_again_while_queued_or_running_answers_the_same_job(connected: FakeServices):
    first = request_sync(connected, STORE_ID)
    connected.advance(3600)
    again = request_sync(connected, STORE_ID)

    assert (again.job_id, again.created, again.state) == (first.job_id, False, "queued")
    assert len(sync_messages(connected)) == 1


def test_after_the_job_ran_a_new_one_starts(connected: FakeServices):
    first = request_sync(connected, STORE_ID)
    deliver(connected)

    second = request_sync(connected, STORE_ID)

    assert second.created
    assert second.job_id != first.job_id


def test_a_job_queued_three_hours_ago_is_taken_as_lost(connected: FakeServices):
    lost = request_sync(connected, STORE_ID)
    connected.queue.to_dead_letters(next_message(connected))

    connected.advance(3 * 3600 - 1)
    assert request_sync(connected, STORE_ID).job_id == lost.job_id
    connected.advance(2)
    fresh = request_sync(connected, STORE_ID)

    assert fresh.created
    assert fresh.job_id != lost.job_id
    assert [m["job_id"] for m in sync_messages(connected)] == [fresh.job_id]


def test_a_store_that_is_not_connected_cannot_sync(services: FakeServices):
    install_store(services)
    with pytest.raises(Conflict) as error:
        request_sync(services, STORE_ID)
    refused(error, 409, "not_connected")
    assert services.queue.waiting == []


def test_a_store_that_never_installed_cannot_sync(services: FakeServices):
    with pytest.raises(NotFound) as error:
        request_sync(services, 999)
    refused(error, 404, "store_not_found")


def test_the_schedule_queues_one_sync_per_connected_store_only(services: FakeServices):
    for store_id in (1003, 1004, 1005, 1019):
        connected_store(services, store_id)
    install_store(services, 2000)  # installed, never connected
    disconnect_store(services, 1005)
    deliver(services)
    busy = request_sync(services, 1019)  # already has a job: the schedule adds none

    assert enqueue_scheduled_syncs(services) == 2

    queued = {(m["store_id"], m["epoch"]) for m in sync_messages(services)}
    assert queued == {(1003, 1), (1004, 1), (1019, 1)}
    assert [m["job_id"] for m in sync_messages(services) if m["store_id"] == 1019] == [busy.job_id]
    assert store_of(services, 1003).sync.state == "queued"
    assert store_of(services, 2000).sync.state == "idle"


def test_a_schedule_with_no_connected_store_queues_nothing(services: FakeServices):
    install_store(services)
    assert enqueue_scheduled_syncs(services) == 0
    assert services.queue.waiting == []


def test_a_reconnected_store_is_synced_at_its_new_epoch(services: FakeServices):
    connected_store(services)
    disconnect_store(services, STORE_ID)
    connect_store(services)
    deliver(services)

    enqueue_scheduled_syncs(services)

    assert [m["epoch"] for m in sync_messages(services)] == [store_of(services).epoch]
