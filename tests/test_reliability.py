"""A tenth of the reliability run: shuffled, duplicated webhooks with Ecwid and TikTok misbehaving, and
every TikTok catalog still ends equal to what a fault-free full sync of the same Ecwid state produces, and
TikTok counts one purchase per order the app saw paid."""

from reliability.run import run


def test_shuffled_duplicated_deliveries_under_faults_converge_on_the_store():
    report = run(stores=2, products=50, changes=70, duplicates=30, seed=11)

    assert report.deliveries == report.webhooks_accepted
    assert report.deliveries >= 100
    assert sum(report.faults.values()) > 0, "the faults were not on"
    assert report.mismatches == {}
    assert report.purchase_problems == []
    assert report.purchases["purchases_counted"] == report.purchases["purchases_expected"] > 0
