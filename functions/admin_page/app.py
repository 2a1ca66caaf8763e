"""admin_page: the merchant's TikTok page (GET /app), its session, the store status and product lists it reads,
and its "Sync Products" button."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from tiktok_channel.api.http import HTML, JAVASCRIPT, JSON_OBJECT, answers, base_url, create_resolver
from tiktok_channel.api.pages import merchant_page, storefront_script_response
from tiktok_channel.api.session import SessionStore, check_session
from tiktok_channel.api.validation import AS_SENT, OptionalQuery, validation
from tiktok_channel.models.api import (
    CategoryList,
    PixelAnswer,
    PixelRequest,
    ProductPage,
    SessionAnswer,
    SessionRequest,
    SyncJob,
    VisibilityAnswer,
    VisibilityRequest,
)
from tiktok_channel.runtime import services
from tiktok_channel.services import jobs, pixel, products, session, status, tiktok_check, visibility

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = create_resolver(check_session(services), *validation())


@app.get("/app", responses=answers({200: HTML, 400: HTML, 401: HTML}))
def merchant_page_html(payload: OptionalQuery = None) -> Response[str]:
    # The payload is checked here (a bad one gets a plain page) but the session is opened by the page's
    # script: the HTML never carries one.
    return merchant_page(services(), payload)


@app.post("/api/session", responses=answers({200: SessionAnswer}, 400, 401))
def create_session(body: Annotated[SessionRequest, Body()]) -> SessionAnswer:
    return SessionAnswer.model_validate(session.open_session(services(), body.payload))


@app.get("/api/stores/<store_id>", responses=answers({200: JSON_OBJECT}, 401, 403, 404))
def get_store_status(store_id: SessionStore) -> dict[str, Any]:
    return status.store_status(services(), store_id)


@app.get("/api/stores/<store_id>/products", responses=answers({200: ProductPage}, 400, 401, 403))
def list_products(
    store_id: SessionStore,
    sku_status: Annotated[str | None, AS_SENT, Query(alias="status")] = None,  # `status` names the service
    cursor: OptionalQuery = None,
) -> ProductPage:
    return ProductPage.model_validate(products.list_products(services(), store_id, sku_status, cursor))


@app.post("/api/stores/<store_id>/sync", responses=answers({202: SyncJob, 200: SyncJob}, 401, 403, 404, 409))
def sync_products(store_id: SessionStore) -> tuple[SyncJob, int]:
    job = jobs.request_sync(services(), store_id)
    return SyncJob.model_validate(job.as_json()), 202 if job.created else 200


@app.post("/api/stores/<store_id>/reviews/check", responses=answers({202: SyncJob, 200: SyncJob}, 401, 403, 404, 409))
def check_with_tiktok(store_id: SessionStore) -> tuple[SyncJob, int]:
    # "Check with TikTok": a job that reads every SKU's status on TikTok (reads only), or the one queued or running.
    job = tiktok_check.request_check(services(), store_id)
    return SyncJob.model_validate(job.as_json()), 202 if job.created else 200


@app.put(
    "/api/stores/<store_id>/products/visibility",
    responses=answers({200: VisibilityAnswer}, 400, 401, 403, 404, 409, 503),
)
def switch_visibility(store_id: SessionStore, body: Annotated[VisibilityRequest, Body()]) -> VisibilityAnswer:
    updated = visibility.switch(
        services(), store_id, product_ids=body.product_ids, category_id=body.category_id, show=body.show
    )
    return VisibilityAnswer(updated=updated)


@app.get("/api/stores/<store_id>/categories", responses=answers({200: CategoryList}, 401, 403, 404, 409, 503))
def list_categories(store_id: SessionStore) -> CategoryList:
    return CategoryList.model_validate({"items": visibility.list_categories(services(), store_id)})


@app.get("/api/stores/<store_id>/pixel", responses=answers({200: PixelAnswer}, 401, 403, 404))
def get_pixel(store_id: SessionStore) -> dict[str, Any]:
    return _pixel_answer(pixel.pixel_status(services(), store_id, base_url(app, services)))


@app.put("/api/stores/<store_id>/pixel", responses=answers({200: PixelAnswer}, 400, 401, 403, 404))
def put_pixel(store_id: SessionStore, body: Annotated[PixelRequest, Body()]) -> dict[str, Any]:
    return _pixel_answer(pixel.set_server_events(services(), store_id, body.server_events, base_url(app, services)))


def _pixel_answer(answer: dict[str, Any]) -> dict[str, Any]:
    # Checked against the model, answered as the service built it: optional keys absent rather than null.
    PixelAnswer.model_validate(answer)
    return answer


@app.get("/storefront.js", responses=answers({200: JAVASCRIPT}))
def storefront_script() -> Response[str]:
    # The same for every store (it reads the store's pixel from Ecwid's public app storage): public, cached.
    return storefront_script_response(services())


@logger.inject_lambda_context(clear_state=True)
# Answers carry sessions and the page: kept out of X-Ray's metadata (requests are never captured).
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
