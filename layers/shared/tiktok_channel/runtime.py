"""The adapters a function works with, built once per cold start from the environment.

Handlers call `services()`; tests and the local run call `reset_services()` after changing the
environment, or pass their own `Services` to the service functions directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property

import boto3
import httpx
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import ValidationError

from tiktok_channel.adapters.catalog_repository import DynamoCatalogRepository
from tiktok_channel.adapters.cleanup_repository import DynamoCleanupRepository
from tiktok_channel.adapters.ecwid import EcwidClient
from tiktok_channel.adapters.events import EventBridgePublisher
from tiktok_channel.adapters.http import RetryPolicy, new_http_client
from tiktok_channel.adapters.kms import KmsSecretCipher, SecretCipher
from tiktok_channel.adapters.queue import SqsCatalogQueue
from tiktok_channel.adapters.rate_limit import FleetRateLimiter
from tiktok_channel.adapters.store_repository import DynamoStoreRepository
from tiktok_channel.adapters.storefront_repository import DynamoStorefrontRepository
from tiktok_channel.adapters.tiktok import TikTokClient
from tiktok_channel.settings import AppSecrets, ConfigurationError, Settings

SECRETS_MAX_AGE_SECONDS = 300  # a rotated credential reaches warm functions within five minutes


@dataclass
class Services:
    settings: Settings
    stores: DynamoStoreRepository
    catalog: DynamoCatalogRepository
    cleanups: DynamoCleanupRepository
    storefronts: DynamoStorefrontRepository
    cipher: SecretCipher
    queue: SqsCatalogQueue
    events: EventBridgePublisher
    load_secrets: Callable[[], AppSecrets]
    limiter: FleetRateLimiter
    http: httpx.Client = field(default_factory=new_http_client)
    clock: Callable[[], float] = time.time

    def secrets(self) -> AppSecrets:
        return self.load_secrets()

    @cached_property
    def _ecwid(self) -> EcwidClient:
        return EcwidClient(
            self.http, api_url=str(self.settings.ecwid_api_url), oauth_url=str(self.settings.ecwid_oauth_url)
        )

    def ecwid(self) -> EcwidClient:
        # One client per cold start: it paces each store's token within Ecwid's limit.
        return self._ecwid

    def tiktok(
        self,
        *,
        http: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        max_wait_seconds: float = 30.0,
    ) -> TikTokClient:
        """A TikTok client; a request that must answer quickly passes a short-timeout `http` and few retries."""
        secrets = self.secrets()
        return TikTokClient(
            http or self.http,
            api_url=str(self.settings.tiktok_api_url),
            app_id=secrets.tiktok_app_id,
            secret=secrets.tiktok_secret,
            gate=self.limiter,
            pause_seconds=self.settings.tiktok_pause_seconds,
            retry_policy=retry_policy,
            max_wait_seconds=max_wait_seconds,
        )


def build_services(settings: Settings | None = None) -> Services:
    settings = settings or Settings.from_environment()
    # Clients honour AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, so moto or DynamoDB Local just work.
    secrets_provider = SecretsProvider(boto3_client=boto3.client("secretsmanager"))
    dynamodb = boto3.client("dynamodb")

    def load_secrets() -> AppSecrets:
        raw = secrets_provider.get(settings.app_secrets_arn, transform="json", max_age=SECRETS_MAX_AGE_SECONDS)
        try:
            return AppSecrets.model_validate(raw)
        except ValidationError as error:
            fields = ", ".join(str(e["loc"][0]) for e in error.errors())
            raise ConfigurationError(f"the app secret is incomplete: fill in {fields}") from None

    return Services(
        settings=settings,
        stores=DynamoStoreRepository(dynamodb, settings.stores_table),
        catalog=DynamoCatalogRepository(dynamodb, settings.stores_table),
        cleanups=DynamoCleanupRepository(dynamodb, settings.stores_table),
        storefronts=DynamoStorefrontRepository(dynamodb, settings.stores_table),
        cipher=KmsSecretCipher(boto3.client("kms"), settings.token_key_id),
        queue=SqsCatalogQueue(boto3.client("sqs"), settings.catalog_queue_url),
        events=EventBridgePublisher(boto3.client("events")),
        load_secrets=load_secrets,
        # 0.9: slack for calls that reach TikTok unevenly (network, cold starts), so no 40100 pauses the fleet.
        limiter=FleetRateLimiter(dynamodb, settings.stores_table, headroom=0.9),
    )


@cache
def services() -> Services:
    return build_services()


def reset_services() -> None:
    services.cache_clear()
