"""The pure helpers of the reliability run's orders and of the bench's purchases scenario."""

from __future__ import annotations

from collections import Counter

from bench.purchases import SCRIPT_GZIP_LIMIT, calls_per_order, order_bounds, purchase_targets, script_size
from reliability.purchases import EXPECTED_COUNT, ORDER_KINDS, PlacedOrder, fault_area, purchase_problems


def test_one_purchase_per_order_seen_paid_and_none_for_the_others():
    orders = [PlacedOrder(5001, "AB12C", "paid"), PlacedOrder(5001, "ZZ99Z", "unpaid")]
    assert purchase_problems(orders, Counter({"ecwid-5001-AB12C": 1})) == []
    assert purchase_problems(orders, Counter()) == ["paid order 5001/AB12C: 0 counted, 1 expected"]
    twice = purchase_problems(orders, Counter({"ecwid-5001-AB12C": 2, "ecwid-5001-ZZ99Z": 1, "ecwid-9-X": 1}))
    assert twice == [
        "paid order 5001/AB12C: 2 counted, 1 expected",
        "unpaid order 5001/ZZ99Z: 1 counted, 0 expected",
        "unknown purchase ecwid-9-X counted 1",
    ]
    assert set(ORDER_KINDS) == set(EXPECTED_COUNT)


def test_faults_are_told_apart_by_where_they_land():
    assert fault_area("tiktok", "/open_api/v1.3/event/track/") == "tiktok event/track"
    assert fault_area("tiktok", "/open_api/v1.3/catalog/product/upload/") == "tiktok catalog"
    assert fault_area("ecwid", "/api/v3/5001/orders/AB12C") == "ecwid order reads"
    assert fault_area("ecwid", "/api/v3/5001/products") == "ecwid catalog"


def test_calls_are_counted_per_order():
    found = calls_per_order(
        ["/api/v3/7/orders/A1", "/api/v3/7/orders/A1", "/api/v3/7/orders/B2", "/api/v3/7/products"],
        [{"data": [{"event_id": "ecwid-7-A1"}]}, {"data": []}, {}],
        7,
    )
    assert found["reads"] == Counter({"A1": 2, "B2": 1})
    assert found["tracks"] == Counter({"A1": 1})
    assert order_bounds(50, 10, 5) == {"ecwid_order_reads": 75, "tiktok_event_track": 60}


def test_the_script_size_uses_the_templates_defaults_and_the_tests_limit():
    size = script_size()
    assert size["gzip_limit_bytes"] == SCRIPT_GZIP_LIMIT == 4096
    assert 0 < size["gzip_bytes"] < size["raw_bytes"]
    assert size["values"]["pixel_script_url"].startswith("https://")


def test_purchase_targets_fail_on_a_second_call():
    result = {
        "size": 1000,
        "storefront_script": {"raw_bytes": 9000, "gzip_bytes": 3000, "gzip9_bytes": 2990, "gzip_limit_bytes": 4096},
        "ecwid_order_reads": {"measured": 75, "bound": 75, "formula": "f", "per_kind_max": {"paid": 1, "later": 2}},
        "tiktok_event_track": {
            "measured": 61,
            "bound": 60,
            "formula": "f",
            "per_paid_order_max": 2,
            "for_unpaid_orders": 0,
        },
        "deliveries": {"round_1": 195, "round_2": 95},
        "conversions": {
            "paid_orders": 60,
            "counted_for_paid": 60,
            "counted_more_than_once": [],
            "counted_for_unpaid": [],
        },
    }
    verdicts = [t["pass"] for t in purchase_targets(result)]
    assert verdicts == [True, True, False, True]
