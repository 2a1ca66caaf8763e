"""Queue messages: one type per kind, and what earlier releases queued still decodes the same way, so a deploy
never strands messages already on the queue (the bodies below are what the release before the message types
wrote, with its group and deduplication ids)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tiktok_channel.models.messages import (
    ECWID_EVENT_ROUTES,
    CleanupMessage,
    EcwidEventMessage,
    SyncMessage,
    decode_message,
    encode_message,
)

EARLIER_RELEASE = [
    (
        '{"kind":"ecwid_event","store_id":1003,"epoch":0,"event_id":"08a7b3e2-7e54-4c1f-9d56-2a0b8c1d9e3f",'
        '"event_type":"product.updated","entity_id":"561234"}',
        EcwidEventMessage,
        "08a7b3e2-7e54-4c1f-9d56-2a0b8c1d9e3f",
    ),
    (
        '{"kind":"ecwid_event","store_id":1003,"epoch":0,"event_id":"a b c","event_type":"category.deleted",'
        '"entity_id":"77"}',
        EcwidEventMessage,
        "0e9f64031fcb2bc708b531c2a20441580425d151a38503f38592a7dd36019d3b",
    ),
    (
        '{"kind":"ecwid_event","store_id":1003,"epoch":0,"event_id":"e-profile","event_type":"profile.updated"}',
        EcwidEventMessage,
        "e-profile",
    ),
    (
        '{"kind":"ecwid_event","store_id":1003,"epoch":0,"event_id":"e-uninstall",'
        '"event_type":"application.uninstalled","entity_id":"1003"}',
        EcwidEventMessage,
        "e-uninstall",
    ),
    (
        '{"kind":"sync","store_id":1003,"epoch":2,"job_id":"5f0c8d7e-1111-4a2b-9c3d-000000000001","mode":"full",'
        '"part":0}',
        SyncMessage,
        "5f0c8d7e-1111-4a2b-9c3d-000000000001:0",
    ),
    (
        '{"kind":"sync","store_id":1003,"epoch":2,"job_id":"5f0c8d7e-1111-4a2b-9c3d-000000000002","mode":"replace",'
        '"part":3,"cursor":"300"}',
        SyncMessage,
        "5f0c8d7e-1111-4a2b-9c3d-000000000002:3",
    ),
    (
        '{"kind":"cleanup","store_id":1003,"epoch":3,"job_id":"cleanup-9b1c2d3e-0000-4000-8000-000000000003"}',
        CleanupMessage,
        "cleanup-9b1c2d3e-0000-4000-8000-000000000003:0",
    ),
]


@pytest.mark.parametrize(("body", "kind", "deduplication_id"), EARLIER_RELEASE)
def test_messages_queued_by_the_earlier_release_decode_to_the_same_message(body, kind, deduplication_id):
    message = decode_message(body)
    assert isinstance(message, kind)
    assert message.group_id == "1003"
    assert message.deduplication_id == deduplication_id
    # What this release writes for it is what the earlier one wrote, byte for byte.
    assert encode_message(message) == body


def test_an_event_carries_the_time_ecwid_created_it_and_is_written_back_byte_for_byte():
    body = (
        '{"kind":"ecwid_event","store_id":1003,"epoch":0,"event_id":"e-timed","event_type":"product.updated",'
        '"entity_id":"561234","event_created":1790000000}'
    )
    message = decode_message(body)
    assert isinstance(message, EcwidEventMessage)
    assert (message.event_created, message.deduplication_id) == (1790000000, "e-timed")
    assert encode_message(message) == body
    # The earlier release's bodies have no time: they decode without one.
    earlier = decode_message(EARLIER_RELEASE[0][0])
    assert isinstance(earlier, EcwidEventMessage)
    assert earlier.event_created is None


def test_a_sync_part_keeps_its_job_mode_and_cursor():
    message = decode_message(EARLIER_RELEASE[5][0])
    assert isinstance(message, SyncMessage)
    assert (message.mode, message.part, message.cursor) == ("replace", 3, "300")


@pytest.mark.parametrize(
    "body",
    [
        "",
        "[]",
        '{"kind":"sync","store_id":1003,"epoch":0}',  # a sync part without its job
        '{"kind":"ecwid_event","store_id":1003,"epoch":0,"event_id":"e"}',  # an event without its type
        '{"kind":"cleanup","store_id":0,"epoch":0,"job_id":"c"}',  # no store 0
        '{"kind":"order","store_id":1003,"epoch":0}',  # a kind no release wrote
        '{"kind":"sync","store_id":1003,"epoch":-1,"job_id":"j"}',
    ],
)
def test_anything_else_is_refused(body):
    with pytest.raises(ValidationError):
        decode_message(body)


def test_every_event_type_the_receiver_queues_has_a_route_in_the_worker():
    assert set(ECWID_EVENT_ROUTES.values()) == {"product", "category", "profile", "uninstall", "order"}
    message = EcwidEventMessage(store_id=1, epoch=0, event_id="e", event_type="customer.created")
    assert message.route is None
