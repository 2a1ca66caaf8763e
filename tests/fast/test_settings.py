"""Configuration fails fast, naming what is wrong, and never shows secret values."""

import pytest

from tiktok_channel.settings import AppSecrets, ConfigurationError, Settings

VALID = {
    "STORES_TABLE": "stores",
    "IDEMPOTENCY_TABLE": "idempotency",
    "CATALOG_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/catalog.fifo",
    "APP_SECRETS_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:app",
    "TOKEN_KEY_ID": "key-1",
    "ECWID_APP_PAGE_URL": "https://my.ecwid.com/store/{store_id}#app:name=tiktok",
}


def test_defaults_follow_the_design_card():
    settings = Settings.from_environment(VALID)
    assert str(settings.ecwid_api_url) == "https://app.ecwid.com/api/v3"
    assert str(settings.tiktok_auth_url) == "https://business-api.tiktok.com/portal/auth"
    assert settings.tiktok_upload_batch_size == 1000
    assert settings.webhook_max_age_seconds == 259_200  # Ecwid's retry horizon (ecwid-api.md: assume 3 days)
    assert settings.app_page_url(1003) == "https://my.ecwid.com/store/1003#app:name=tiktok"


def test_missing_variable_is_named():
    env = {k: v for k, v in VALID.items() if k != "STORES_TABLE"}
    with pytest.raises(ConfigurationError, match="STORES_TABLE"):
        Settings.from_environment(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ECWID_APP_PAGE_URL", "https://my.ecwid.com/store/#app"),
        ("TIKTOK_UPLOAD_BATCH_SIZE", "0"),
        ("TIKTOK_UPLOAD_BATCH_SIZE", "many"),
        ("TIKTOK_API_URL", "not a url"),
        ("WEBHOOK_MAX_AGE_SECONDS", "86399"),  # Ecwid retries for about a day
        ("WEBHOOK_MAX_AGE_SECONDS", "604801"),  # the worker remembers applied events for a week
        ("WEBHOOK_MAX_AGE_SECONDS", "three days"),
    ],
)
def test_bad_variable_is_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_environment({**VALID, name: value})


def test_incomplete_app_secret_is_refused_without_echoing_values():
    with pytest.raises(ValueError, match="session_key") as error:
        AppSecrets.model_validate(
            {
                "ecwid_client_id": "id",
                "ecwid_client_secret": "s3cr3t-value-0123456789",
                "tiktok_app_id": "app",
                "tiktok_secret": "tt-secret",
                "session_key": "tiny-key",
            }
        )
    assert "s3cr3t-value" not in str(error.value)
    assert "tiny-key" not in str(error.value)
