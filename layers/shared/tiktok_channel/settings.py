"""Configuration: environment variables parsed once into typed models, failing fast with a clear message."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has a bad variable: a deployment problem, not a merchant's."""


class Settings(BaseModel):
    """The environment variables design.md names (their names are the aliases)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    stores_table: str = Field(alias="STORES_TABLE", min_length=1)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=1)
    catalog_queue_url: str = Field(alias="CATALOG_QUEUE_URL", min_length=1)
    catalog_dlq_url: str = Field(alias="CATALOG_DLQ_URL", default="")
    app_secrets_arn: str = Field(alias="APP_SECRETS_ARN", min_length=1)
    token_key_id: str = Field(alias="TOKEN_KEY_ID", min_length=1)
    # Empty means "the URL the request arrived on" (the template cannot reference its own API URL).
    public_base_url: str = Field(alias="PUBLIC_BASE_URL", default="")
    ecwid_app_page_url: str = Field(alias="ECWID_APP_PAGE_URL", min_length=1)
    ecwid_api_url: AnyHttpUrl = Field(alias="ECWID_API_URL", default=AnyHttpUrl("https://app.ecwid.com/api/v3"))
    ecwid_oauth_url: AnyHttpUrl = Field(alias="ECWID_OAUTH_URL", default=AnyHttpUrl("https://my.ecwid.com/api/oauth"))
    tiktok_api_url: AnyHttpUrl = Field(alias="TIKTOK_API_URL", default=AnyHttpUrl("https://business-api.tiktok.com"))
    tiktok_auth_url: AnyHttpUrl = Field(
        alias="TIKTOK_AUTH_URL", default=AnyHttpUrl("https://business-api.tiktok.com/portal/auth")
    )
    tiktok_business_platform: str = Field(alias="TIKTOK_BUSINESS_PLATFORM", default="ECWID", min_length=1)
    tiktok_upload_batch_size: Annotated[int, Field(ge=1, le=5000)] = Field(
        alias="TIKTOK_UPLOAD_BATCH_SIZE", default=1000
    )
    # Every SKU on TikTok is uploaded again at least this often, even unchanged: TikTok expires products not
    # updated for 30 days (tiktok-api.md "Freshness"; what the expiry counts from is unconfirmed).
    tiktok_refresh_days: Annotated[int, Field(ge=2, le=29)] = Field(alias="TIKTOK_REFRESH_DAYS", default=7)
    # How many refused products one batch TikTok refuses whole is split for: at most 2·⌈log2(batch)⌉ times this
    # many extra upload calls (services/sync_uploads.py).
    tiktok_split_max_refused: Annotated[int, Field(ge=1, le=100)] = Field(alias="TIKTOK_SPLIT_MAX_REFUSED", default=10)

    # The Events API / pixel name of a purchase: TikTok's docs use both (tiktok-api.md, "Not confirmed").
    tiktok_purchase_event: Literal["CompletePayment", "Purchase"] = Field(
        alias="TIKTOK_PURCHASE_EVENT", default="CompletePayment"
    )
    # TikTok's pixel script, which the storefront script loads (tiktok-api.md, "Pixel in the browser").
    tiktok_pixel_script_url: AnyHttpUrl = Field(
        alias="TIKTOK_PIXEL_SCRIPT_URL", default=AnyHttpUrl("https://analytics.tiktok.com/i18n/pixel/events.js")
    )
    # Orders placed longer ago are not sent: how old an Events API `event_time` may be is unconfirmed
    # (tiktok-api.md); an order edited weeks later must not become a purchase again.
    purchase_max_age_days: Annotated[int, Field(ge=1, le=60)] = Field(alias="PURCHASE_MAX_AGE_DAYS", default=7)

    # How long the whole fleet leaves TikTok alone after a 40100 (TikTok says "about 5 minutes").
    tiktok_pause_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(alias="TIKTOK_PAUSE_SECONDS", default=300.0)

    # First wait before a catalog message that failed for now is tried again (doubling up to 15 minutes).
    catalog_retry_base_seconds: Annotated[float, Field(gt=0, le=900)] = Field(
        alias="CATALOG_RETRY_BASE_SECONDS", default=30.0
    )
    # Ecwid's webhook retry horizon (ecwid-api.md: assume up to 3 days): older events are ignored. At least a day,
    # since Ecwid retries for about that long; at most the worker's memory of applied events (EVENT_MEMORY_SECONDS).
    webhook_max_age_seconds: Annotated[int, Field(ge=86_400, le=604_800)] = Field(
        alias="WEBHOOK_MAX_AGE_SECONDS", default=259_200
    )
    # The scheduled full sync's EventBridge expression, to tell the merchant when it runs next.
    sync_schedule: str = Field(alias="SYNC_SCHEDULE", default="")
    # The review checks' schedule (their share of the daily budget is split over its runs), and that share.
    review_check_schedule: str = Field(alias="REVIEW_CHECK_SCHEDULE", default="rate(30 minutes)")
    review_refresh_share: Annotated[float, Field(gt=0, le=0.9)] = Field(alias="REVIEW_REFRESH_SHARE", default=0.3)
    # A sync job queued or running with no progress for this long is shown stalled (and counted, metric SyncStalled).
    stall_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(alias="STALL_MINUTES", default=30)

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("ecwid_app_page_url")
    @classmethod
    def _has_store_placeholder(cls, value: str) -> str:
        if "{store_id}" not in value:
            raise ValueError("must contain {store_id}, where the store's id is filled in")
        return value

    def app_page_url(self, store_id: int) -> str:
        return self.ecwid_app_page_url.replace("{store_id}", str(store_id))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        try:
            return cls.model_validate({k: v for k, v in source.items() if v != "" or k == "PUBLIC_BASE_URL"})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
            raise ConfigurationError(f"bad or missing environment variables: {problems}") from None


class AppSecrets(BaseModel):
    """The JSON secret behind APP_SECRETS_ARN."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    ecwid_client_id: str = Field(min_length=1)
    ecwid_client_secret: str = Field(min_length=16)  # its first 16 characters are the payload's AES key
    tiktok_app_id: str = Field(min_length=1)
    tiktok_secret: str = Field(min_length=1)
    session_key: str = Field(min_length=32)
    tiktok_external_data_key: str | None = None

    def __repr__(self) -> str:
        return "AppSecrets(<redacted>)"

    __str__ = __repr__
