"""bench/results/cost.md from the figures `bench.cost` builds."""

from __future__ import annotations

from typing import Any

SIZES = ("100", "1000", "10000", "50000")


def money(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:,.5f}" if value < 0.01 else f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def render(d: dict[str, Any]) -> str:
    stores, fleets, a = d["stores"], d["fleets"], d["assumptions"]
    out = [
        "# What a fleet costs (`make cost`)",
        "",
        f"Produced by `{d['command']}` on {d['date']}. Prices: {d['prices']['file']}, {d['prices']['region']}, arm64, "
        f"taken {d['prices']['taken']} — {d['prices']['note']}",
        "",
        f"Each store: {a['full_syncs_per_day']} full syncs a day, {a['edited_share_per_day']:.0%} of its products edited "  # noqa: E501
        f"a day, {a['orders_per_day']} orders a day, {a['storefront_page_views_per_month']:,} storefront page views a "
        f"month, a month of {30} days. Free tiers left out.",
        "",
        "## Per store per month (variable cost)",
        "",
        "| line | " + " | ".join(f"{int(s):,} products" for s in SIZES) + " |",
        "|---|" + "---|" * len(SIZES),
    ]
    lines = sorted({line for s in SIZES for line in stores[s]["lines"]})
    for line in lines:
        out.append(f"| {line} | " + " | ".join(money(stores[s]["lines"].get(line, 0.0)) for s in SIZES) + " |")
    out.append("| **total** | " + " | ".join(f"**{money(stores[s]['total'])}**" for s in SIZES) + " |")
    big = d["biggest_line_1000"]
    target = d["target"]
    out += [
        "",
        f"Target: under {money(target['per_store'])} per store per month for a 1,000-product store (variable): "
        f"**{money(stores['1000']['total'])}**, {'holds' if target['holds'] else 'MISSED'}.",
        "",
        f"Biggest line (1,000 products): **{big['line']}**, {money(big['dollars'])} a month. {d['halving']}",
        "",
        "## Fixed costs (whatever the fleet's size)",
        "",
        "| line | $ a month |",
        "|---|---|",
        *[f"| {k} | {money(v)} |" for k, v in d["fixed"].items()],
        f"| **total** | **{money(d['fixed_total'])}** |",
        "",
        "## Fleets (1,000-product stores)",
        "",
        "| stores | variable | X-Ray traces (default sampling) | fixed | total a month | all-in per store |",
        "|---|---|---|---|---|---|",
        *[
            f"| {int(f):,} | {money(v['variable'])} | {money(v['xray'])} | {money(v['fixed'])} | {money(v['total'])} | "
            f"{money(v['per_store_all_in'])} |"
            for f, v in fleets.items()
        ],
        "",
        "## TikTok calls per day against TikTok's per-app limits",
        "",
        f"Stores of {d['tiktok_first_limit']['store_size']:,} products. Usable: the limit × 0.9 (the fleet rate "
        "limiter's headroom); the default bucket's review checks may use 30% of it, so syncs and edits get 70%.",
        "",
        "| bucket | per store a day | limit a day | usable | 100 stores | 1,000 stores | 10,000 stores | binds at |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for bucket, b in d["tiktok_buckets"].items():
        fleet = " | ".join(f"{b['by_fleet'][f]:,.0f}" for f in ("100", "1000", "10000"))
        binds = f"{b['binds_at_stores']:,} stores" if b["binds_at_stores"] else "never (no calls)"
        out.append(
            f"| {bucket} | {b['per_store_per_day']:,.1f} | {b['limit_per_day']:,} | {b['usable_per_day']:,.0f} | {fleet} | {binds} |"  # noqa: E501
        )
    first = d["tiktok_first_limit"]
    out += [
        "",
        f"The first limit to bind: **{first['bucket']}**, at about **{first['stores']:,} stores** of "
        f"{first['store_size']:,} products. Per store size (the same bucket): "
        + ", ".join(
            f"{int(s):,} products: {d['binding_by_size'][s]:,} stores" for s in SIZES if d["binding_by_size"].get(s)
        )
        + ". The per-catalog upload allowance (1,000 an hour) binds per store, not per fleet. The twice-daily "
        "syncs all start at the schedule's minute: the fleet limiter queues them, so a large fleet's runs spread over "
        "the following minutes or hours instead of failing.",
    ]
    waste = d.get("waste_fixed")
    if waste:
        out += [
            "",
            "## Waste fixed: KMS decrypts repeated for the same token",
            "",
            "Every queue message decrypted both of its store's tokens again, though a warm worker applies a burst of "
            "one store's events (a bulk edit, an order's webhooks) back to back. `KmsSecretCipher` now reuses a "
            "plaintext for 60 s for the same ciphertext, store and field only (tiktok_channel/adapters/kms.py): any "
            "other ciphertext or encryption context still goes to KMS, which checks the context; the IAM policies "
            "are unchanged.",
            "",
            "| step | messages | decrypts before | decrypts after |",
            "|---|---|---|---|",
            *[
                f"| {k} | {waste['messages'][k]} | {waste['decrypts_before'][k]} | {waste['decrypts_after'][k]} |"
                for k in waste["decrypts_before"]
            ],
            "",
            f"1,000-product store, KMS line: {money(waste['kms_line_1000_before'])} → {money(waste['kms_line_1000_after'])}; "  # noqa: E501
            f"total: {money(waste['dollars_1000_before'])} → {money(waste['dollars_1000_after'])} a month. "
            "If every event arrived alone in a cold-ish worker (no burst), the saving shrinks toward the before figure.",  # noqa: E501
        ]
    out += ["", "## Inputs and where they come from", ""]
    for name, value in stores["1000"]["inputs"].items():
        out.append(f"- {name} (1,000 products): `{_short(value)}`")
    for size in SIZES:
        out.append(f"- full sync at {int(size):,} products: {stores[size]['inputs']['full sync']['source']}")
    out += [
        f"- the template: memory {d['template']['memory_mb']}; {d['template']['alarms']} alarms, "
        f"{d['template']['dashboards']} dashboards, {d['template']['kms_keys']} KMS keys, {d['template']['secrets']} secret",  # noqa: E501
        f"- metrics: {len(d['metric_names'])} names in the code (`add_metric`), each with the one dimension `service`; "
        f"{len(d['metrics_seen_in_run'])} seen in the run's EMF lines. No per-store dimension, so metrics do not grow with the fleet.",  # noqa: E501
        "- the webhook receiver: bench/results/webhook.json (p95 warm duration), its log bytes measured now",
        "",
        "Assumptions:",
        "",
        *[f"- `{k}`: {v}" for k, v in a.items()],
        "",
    ]
    return "\n".join(out)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) < 400 else text[:400] + " …"
