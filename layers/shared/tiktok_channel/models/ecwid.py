"""Ecwid's payloads, as pydantic models (field names as Ecwid spells them, exposed in snake_case)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel


class _EcwidModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", hide_input_in_errors=True
    )


class EcwidToken(_EcwidModel):
    """The answer of the OAuth token exchange."""

    model_config = ConfigDict(alias_generator=None, extra="ignore", hide_input_in_errors=True)

    access_token: SecretStr = Field(min_length=1)
    token_type: str
    scope: str = ""
    store_id: int
    public_token: SecretStr | None = None

    @field_validator("token_type")
    @classmethod
    def _bearer(cls, value: str) -> str:
        if value.lower() != "bearer":
            raise ValueError(f"unexpected token_type {value!r}")
        return value

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())


class _GeneralInfo(_EcwidModel):
    store_id: int
    store_url: str = ""


class _Company(_EcwidModel):
    company_name: str = ""
    email: str = ""
    country_code: str = ""


class _FormatsAndUnits(_EcwidModel):
    currency: str = ""


class _TikTokPixelSetting(_EcwidModel):
    # Ecwid's own TikTok pixel setting: seen only in Ecwid's Java client, not in the REST docs (ecwid-api.md).
    code: str = ""


class _Settings(_EcwidModel):
    store_name: str = ""
    tik_tok_pixel: _TikTokPixelSetting | None = None  # `tikTokPixel`
    ask_consent_to_track_in_storefront: bool = False


class StoreProfile(_EcwidModel):
    """`GET /profile`: only the parts this app uses."""

    general_info: _GeneralInfo
    company: _Company = _Company()
    formats_and_units: _FormatsAndUnits = _FormatsAndUnits()
    settings: _Settings = _Settings()

    @property
    def country(self) -> str:
        return self.company.country_code.upper()

    @property
    def currency(self) -> str:
        return self.formats_and_units.currency.upper()

    @property
    def store_name(self) -> str:
        return self.settings.store_name or self.company.company_name

    @property
    def store_url(self) -> str:
        return self.general_info.store_url

    @property
    def email(self) -> str:
        return self.company.email

    @property
    def store_pixel_code(self) -> str | None:
        """The pixel code of Ecwid's own TikTok pixel setting when it is on (then that pixel fires on the
        storefront already), else None."""
        setting = self.settings.tik_tok_pixel
        return setting.code.strip() or None if setting else None


class AdminPayload(BaseModel):
    """The decrypted payload Ecwid hands the app's page inside the admin."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    store_id: int = Field(gt=0)
    access_token: SecretStr = Field(min_length=1)
    lang: str = "en"
    view_mode: str | None = None
