"""Installing the app again while the store is connected (another admin tab, Ecwid's "reinstall" button) keeps the
connection and the store's place in the twice-daily syncs, through the real DynamoDB adapter."""

from __future__ import annotations

from tests.app_stack import AppStack

STORE = 1003


def test_reinstalling_a_connected_store_keeps_it_in_the_scheduled_syncs(stack: AppStack):
    stack.ecwid.add_store(STORE, country="US", currency="USD")
    assert stack.connect(STORE).status_code == 302
    assert [item["store_id"] for item in stack.connected_index()] == [STORE]

    assert stack.install(STORE).status_code == 302

    assert stack.store_item(STORE)["status"] == "connected"
    assert [item["store_id"] for item in stack.connected_index()] == [STORE]
