"""The page's "next sync" comes from the schedule expression of the template."""

from datetime import UTC, datetime

import pytest

from tiktok_channel.schedule import next_run

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 6,18 * * ? *)", datetime(2026, 11, 24, 18, 0, tzinfo=UTC)),
        ("cron(30 3 * * ? *)", datetime(2026, 11, 25, 3, 30, tzinfo=UTC)),
        ("cron(0 */5 * * ? *)", datetime(2026, 11, 24, 15, 0, tzinfo=UTC)),
        ("cron(15 0-23 ? * * *)", datetime(2026, 11, 24, 12, 15, tzinfo=UTC)),
    ],
)
def test_daily_schedules_give_the_next_run(expression, expected):
    assert next_run(expression, NOON) == expected


@pytest.mark.parametrize("expression", ["rate(12 hours)", "cron(0 6 ? * MON *)", "cron(0 6 1 * ? *)", "", "cron(x)"])
def test_other_schedules_give_no_next_run(expression):
    assert next_run(expression, NOON) is None
