"""The store as this app keeps it: Ecwid install, TikTok connection, sync and review summaries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tiktok_channel.errors import NotConnected

StoreStatus = Literal["installed", "connected", "reconnect_needed", "ecwid_access_lost", "disconnected"]
StatePurpose = Literal["connect", "storefront"]
StateStatus = Literal["issued", "consumed", "completed", "failed"]

_MODEL = ConfigDict(extra="ignore", hide_input_in_errors=True)


class TikTokConnection(BaseModel):
    """What the TikTok connect produced. `access_token` is KMS ciphertext, never plaintext."""

    model_config = _MODEL

    access_token: bytes
    advertiser_ids: list[str] = []
    bc_id: str | None = None
    adv_id: str | None = None
    catalog_id: str | None = None
    pixel_code: str | None = None
    catalog_currency: str | None = None
    catalog_region: str | None = None
    via_business_profile: bool = False
    connected_at: str | None = None

    @property
    def business_center_url(self) -> str | None:
        if not self.bc_id:
            return None
        return f"https://business.tiktok.com/manage/overview?org_id={self.bc_id}"


class PendingConnection(TikTokConnection):
    """A connect in progress: kept apart from the live connection until every step has succeeded."""

    nonce: str


class SyncState(BaseModel):
    model_config = _MODEL

    state: Literal["idle", "queued", "running"] = "idle"
    job_id: str | None = None
    queued_at: str | None = None  # a job queued or running for hours was lost: a new one may start
    done: int = 0
    total: int = 0
    last_finished_at: str | None = None
    last_result: str | None = None
    next_at: str | None = None
    # A sync waiting on a failing service: since when (the first failure in a row) and when it tries again.
    waiting_since: str | None = None
    retry_at: str | None = None
    reviews_checked_at: str | None = None  # when TikTok's review statuses were last read
    # When the job last moved (`done` moved or its state changed); never shown, it tells a stalled job.
    progress_at: str | None = None
    # The stall already counted (metric SyncStalled): "<job_id>@<last progress>", so each stall counts once.
    stall_noted: str | None = None


class ProductCounts(BaseModel):
    model_config = _MODEL

    listed: int = 0
    pending: int = 0
    rejected: int = 0
    held_back: int = 0
    excluded: int = 0  # products (not SKUs) the store's own settings keep off TikTok
    kept_off: int = 0  # products (not SKUs) the merchant keeps off TikTok


class TikTokCounts(BaseModel):
    """TikTok's own counts for the catalog (`catalog/overview`), read with every review check."""

    model_config = _MODEL

    approved: int = 0
    processing: int = 0
    rejected: int = 0
    checked_at: str | None = None
    # Ours beside TikTok's at that check: SKUs we hold on TikTok (listed + pending + rejected), and how many
    # checks in a row found the two apart by more than max(2 SKUs, 1%).
    ours: int | None = None
    apart: int = 0


class TikTokCheck(BaseModel):
    """The merchant's "Check with TikTok": one job re-reading every SKU's status on TikTok (reads only)."""

    model_config = _MODEL

    job_id: str
    state: Literal["queued", "running", "done"] = "queued"
    epoch: int = 0
    queued_at: str | None = None  # a job queued or running for hours was lost: a new one may start
    finished_at: str | None = None
    corrected: int = 0  # SKU records it corrected


class ReviewCandidate(BaseModel):
    """A store in the pending-reviews index: `due` is when its statuses were last read (ISO 8601)."""

    model_config = _MODEL

    store_id: int
    epoch: int
    pending: int
    due: str


class Notice(BaseModel):
    model_config = _MODEL

    code: str
    message: str


class RemoteCleanup(BaseModel):
    """How telling TikTok about the last disconnect went; cleanup items hold what is left to do."""

    model_config = _MODEL

    state: Literal["pending", "done"] = "pending"
    attempts: int = 0
    last_error: str | None = None
    updated_at: str | None = None


class Store(BaseModel):
    model_config = _MODEL

    store_id: int
    status: StoreStatus = "installed"
    epoch: int = 0
    country: str = ""
    currency: str = ""
    store_name: str = ""
    store_url: str = ""
    email: str = ""
    ecwid_token: bytes | None = None  # KMS ciphertext
    ecwid_scope: str = ""
    install_code_hash: str | None = None  # recognises a reloaded install callback
    phone: bytes | None = None  # KMS ciphertext; personal data
    tiktok: TikTokConnection | None = None
    pending_connection: PendingConnection | None = None
    connection_nonce: str | None = None
    sync: SyncState = SyncState()
    products: ProductCounts = ProductCounts()
    storefront_state: str = "not_applied"
    # Why the catalog is not being kept in sync (currency changed, Ecwid access lost, TikTok revoked).
    notice: Notice | None = None
    tiktok_counts: TikTokCounts | None = None
    tiktok_check: TikTokCheck | None = None
    remote_cleanup: RemoteCleanup | None = None  # set by a disconnect or an uninstall
    installed_at: str | None = None
    updated_at: str | None = None
    version: int = 0


class CatalogTarget(BaseModel):
    """The TikTok catalog a connected store syncs into, every id its calls need present (never stored).

    `TikTokConnection` keeps its ids optional because a connect fills them in one by one; the sync works
    from this view instead, so it never sends TikTok an empty id.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    store_id: int
    bc_id: str
    catalog_id: str
    currency: str  # the catalog's, set when TikTok created it: a store currency change cannot follow
    access_token: bytes = Field(repr=False)  # KMS ciphertext

    @classmethod
    def of(cls, store: Store) -> CatalogTarget:
        """The store's catalog; raises `NotConnected` when its connection lacks an id or the catalog currency."""
        connection = store.tiktok
        if connection is None or not (connection.bc_id and connection.catalog_id and connection.catalog_currency):
            raise NotConnected(
                f"Store {store.store_id} has no complete TikTok connection "
                "(its Business Center, catalog or catalog currency is missing)"
            )
        return cls(
            store_id=store.store_id,
            bc_id=connection.bc_id,
            catalog_id=connection.catalog_id,
            currency=connection.catalog_currency,
            access_token=connection.access_token,
        )


class OAuthState(BaseModel):
    """The server-side half of a signed OAuth `state`: makes it single-use and bound to one store."""

    model_config = _MODEL

    store_id: int
    nonce: str
    purpose: StatePurpose
    status: StateStatus = "issued"
    expires_at: int
    auth_code_hash: str | None = None
