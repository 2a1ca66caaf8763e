"""The composition root: the adapters behind the ports of `tiktok_channel.ports`, built from the environment.

Each adapter (and the module that holds it) is built on first use and kept for the life of the process, so
a function builds only what it uses, once per cold start: the webhook receiver, which queues a message,
never imports the TikTok client, the DynamoDB repositories or httpx.

Handlers call `services()`; tests and the local run call `reset_services()` after changing the environment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from tiktok_channel.settings import AppSecrets, ConfigurationError, Settings

if TYPE_CHECKING:
    import httpx

    from tiktok_channel.adapters.catalog_repository import DynamoCatalogRepository
    from tiktok_channel.adapters.choice_repository import DynamoChoiceRepository
    from tiktok_channel.adapters.cleanup_repository import DynamoCleanupRepository
    from tiktok_channel.adapters.connection_repository import DynamoConnectionRepository
    from tiktok_channel.adapters.ecwid import EcwidClient
    from tiktok_channel.adapters.events import EventBridgePublisher
    from tiktok_channel.adapters.health_repository import DynamoSyncHealthRepository
    from tiktok_channel.adapters.images import HttpImageProbe
    from tiktok_channel.adapters.kms import KmsSecretCipher
    from tiktok_channel.adapters.pixel_repository import DynamoPixelRepository
    from tiktok_channel.adapters.queue import SqsCatalogQueue
    from tiktok_channel.adapters.rate_limit import FleetRateLimiter
    from tiktok_channel.adapters.store_repository import DynamoStoreRepository
    from tiktok_channel.adapters.storefront_repository import DynamoStorefrontRepository
    from tiktok_channel.adapters.tiktok import TikTokClient

SECRETS_MAX_AGE_SECONDS = 300  # a rotated credential reaches warm functions within five minutes
# 0.9: slack for calls that reach TikTok unevenly (network, cold starts), so no 40100 pauses the fleet.
TIKTOK_HEADROOM = 0.9
# While the merchant waits (API Gateway cuts a request at 30 s), TikTok gets short timeouts, two tries within
# two seconds and two seconds in the fleet's queue; what does not fit is the catalog worker's job.
QUICK_CONNECT_SECONDS, QUICK_READ_SECONDS = 2.0, 4.0
QUICK_ATTEMPTS, QUICK_BUDGET_SECONDS, QUICK_LIMITER_WAIT_SECONDS = 2, 2.0, 2.0


T = TypeVar("T")


class _BuiltOnce(Generic[T]):
    """`functools.cached_property` built under the runtime's lock: the local run calls one Runtime from several
    threads (the gateway, the SQS pollers), and two Ecwid clients would each pace the same token."""

    def __init__(self, build: Callable[[Runtime], T]) -> None:
        self._build = build
        self._name = build.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _BuiltOnce[T]: ...

    @overload
    def __get__(self, instance: Runtime, owner: type | None = None) -> T: ...

    def __get__(self, instance: Runtime | None, owner: type | None = None) -> T | _BuiltOnce[T]:
        if instance is None:
            return self
        built = instance.__dict__
        if self._name not in built:
            with instance._lock:
                if self._name not in built:
                    # Kept in the instance's __dict__, which later lookups read before this descriptor.
                    built[self._name] = self._build(instance)
        return cast(T, built[self._name])


class Runtime:
    """The `Services` of a Lambda function (or of the local run): AWS through boto3, Ecwid and TikTok over httpx.

    Clients honour AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, so moto or DynamoDB Local just work.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self.clock: Callable[[], float] = time.time
        self._lock = threading.RLock()  # building a client may build the clients it needs

    # -- configuration ---------------------------------------------------------------------------
    @_BuiltOnce
    def settings(self) -> Settings:
        return self._settings or Settings.from_environment()

    @_BuiltOnce
    def _secrets_provider(self) -> Any:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_client=self._client("secretsmanager"))

    def secrets(self) -> AppSecrets:
        """The app secret (JSON), cached for SECRETS_MAX_AGE_SECONDS; ConfigurationError names missing fields."""
        from pydantic import ValidationError

        raw = self._secrets_provider.get(
            self.settings.app_secrets_arn, transform="json", max_age=SECRETS_MAX_AGE_SECONDS
        )
        try:
            return AppSecrets.model_validate(raw)
        except ValidationError as error:
            fields = ", ".join(str(e["loc"][0]) for e in error.errors())
            raise ConfigurationError(f"the app secret is incomplete: fill in {fields}") from None

    def _client(self, service: str) -> Any:
        import boto3

        with self._lock:
            return boto3.client(service)  # type: ignore[call-overload]

    @_BuiltOnce
    def _dynamodb(self) -> Any:
        return self._client("dynamodb")

    # -- AWS -------------------------------------------------------------------------------------
    @_BuiltOnce
    def stores(self) -> DynamoStoreRepository:
        from tiktok_channel.adapters.store_repository import DynamoStoreRepository

        return DynamoStoreRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def connections(self) -> DynamoConnectionRepository:
        from tiktok_channel.adapters.connection_repository import DynamoConnectionRepository

        return DynamoConnectionRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def catalog(self) -> DynamoCatalogRepository:
        from tiktok_channel.adapters.catalog_repository import DynamoCatalogRepository

        return DynamoCatalogRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def cleanups(self) -> DynamoCleanupRepository:
        from tiktok_channel.adapters.cleanup_repository import DynamoCleanupRepository

        return DynamoCleanupRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def storefronts(self) -> DynamoStorefrontRepository:
        from tiktok_channel.adapters.storefront_repository import DynamoStorefrontRepository

        return DynamoStorefrontRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def pixels(self) -> DynamoPixelRepository:
        from tiktok_channel.adapters.pixel_repository import DynamoPixelRepository

        return DynamoPixelRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def choices(self) -> DynamoChoiceRepository:
        from tiktok_channel.adapters.choice_repository import DynamoChoiceRepository

        return DynamoChoiceRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def health(self) -> DynamoSyncHealthRepository:
        from tiktok_channel.adapters.health_repository import DynamoSyncHealthRepository

        return DynamoSyncHealthRepository(self._dynamodb, self.settings.stores_table)

    @_BuiltOnce
    def cipher(self) -> KmsSecretCipher:
        from tiktok_channel.adapters.kms import KmsSecretCipher

        return KmsSecretCipher(self._client("kms"), self.settings.token_key_id)

    @_BuiltOnce
    def queue(self) -> SqsCatalogQueue:
        from tiktok_channel.adapters.queue import SqsCatalogQueue

        return SqsCatalogQueue(self._client("sqs"), self.settings.catalog_queue_url)

    @_BuiltOnce
    def events(self) -> EventBridgePublisher:
        from tiktok_channel.adapters.events import EventBridgePublisher

        return EventBridgePublisher(self._client("events"))

    @_BuiltOnce
    def limiter(self) -> FleetRateLimiter:
        from tiktok_channel.adapters.rate_limit import FleetRateLimiter

        return FleetRateLimiter(self._dynamodb, self.settings.stores_table, headroom=TIKTOK_HEADROOM)

    # -- HTTP ------------------------------------------------------------------------------------
    @_BuiltOnce
    def http(self) -> httpx.Client:
        from tiktok_channel.adapters.http import new_http_client

        return new_http_client()

    @_BuiltOnce
    def _quick_http(self) -> httpx.Client:
        import httpx

        from tiktok_channel.adapters.http import new_http_client

        return new_http_client(httpx.Timeout(QUICK_READ_SECONDS, connect=QUICK_CONNECT_SECONDS))

    @_BuiltOnce
    def images(self) -> HttpImageProbe:
        from tiktok_channel.adapters.images import HttpImageProbe

        return HttpImageProbe(self.http)

    @_BuiltOnce
    def _ecwid(self) -> EcwidClient:
        from tiktok_channel.adapters.ecwid import EcwidClient

        settings = self.settings
        return EcwidClient(self.http, api_url=str(settings.ecwid_api_url), oauth_url=str(settings.ecwid_oauth_url))

    def ecwid(self) -> EcwidClient:
        # One client per cold start: it paces each store's token within Ecwid's limit.
        return self._ecwid

    def tiktok(self, *, while_merchant_waits: bool = False) -> TikTokClient:
        """One client per cold start and kind (rebuilt only when the app's TikTok credentials rotate)."""
        secrets = self.secrets()
        key = (while_merchant_waits, secrets.tiktok_app_id, secrets.tiktok_secret)
        with self._lock:
            client = self._tiktok_clients.get(key)
            if client is None:
                client = self._tiktok_clients[key] = self._new_tiktok(secrets, quick=while_merchant_waits)
        return client

    @_BuiltOnce
    def _tiktok_clients(self) -> dict[tuple[bool, str, str], TikTokClient]:
        return {}

    def _new_tiktok(self, secrets: AppSecrets, *, quick: bool) -> TikTokClient:
        from tiktok_channel.adapters.http import RetryPolicy
        from tiktok_channel.adapters.tiktok import TikTokClient

        common: dict[str, Any] = {
            "api_url": str(self.settings.tiktok_api_url),
            "app_id": secrets.tiktok_app_id,
            "secret": secrets.tiktok_secret,
            "gate": self.limiter,
            "pause_seconds": self.settings.tiktok_pause_seconds,
        }
        if not quick:
            return TikTokClient(self.http, **common)
        policy = RetryPolicy(
            attempts=QUICK_ATTEMPTS, base_delay_seconds=0.25, max_delay_seconds=1.0, budget_seconds=QUICK_BUDGET_SECONDS
        )
        return TikTokClient(
            self._quick_http, retry_policy=policy, max_wait_seconds=QUICK_LIMITER_WAIT_SECONDS, **common
        )


@cache
def services() -> Runtime:
    """The process's composition root (its adapters are built as they are first used)."""
    return Runtime()


def reset_services() -> None:
    """Forget every adapter and setting, for tests and the local run after they change the environment."""
    services.cache_clear()


if TYPE_CHECKING:
    from tiktok_channel.ports import Services

    _implements_the_ports: Services = Runtime()
