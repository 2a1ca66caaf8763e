"""A sandbox TikTok refusal rule for products whose title carries a marker: TikTok refuses the whole upload request
(40002 naming the field) for any of them, as tiktok-api.md "One refused product can refuse the whole request" says it
may. The reliability run's changes add and remove the marker; the slow tests use it too."""

from __future__ import annotations

from typing import Any

from sandboxes.tiktok_catalog import ProductIssue, RefusalRule

MARKER = "FREE SHIPPING!!!"
ISSUE = "Promotional text is not allowed in titles"


def refuse_marked_titles(marker: str = MARKER) -> RefusalRule:
    """Refuses any upload carrying a product whose title holds `marker` (add to `tiktok.request_refusal_rules`)."""

    def rule(product: dict[str, Any]) -> ProductIssue | None:
        title = product.get("title")
        if isinstance(title, str) and marker in title:
            return ProductIssue("title", ISSUE, "Remove the promotional text from the title.")
        return None

    return rule
