"""The catalog side of the stores table: one item per SKU, short-lived sync-run items, remembered image sizes.

Keys: SKU items are (STORE#<id>, SKU#<sku_id>); a sync run is (STORE#<id>, RUN#<job_id>) with its pages
(STORE#<id>, RUN#<job_id>#PAGE#<offset>), both with a TTL; image sizes are (IMAGE#<url hash>, IMAGE).

Every SKU item also carries `sku_status` = STORE#<id>#<status>, the hash key of the `sku-status` index, so the
merchant page lists one status of one store (Listed, Pending review, Rejected, Not uploaded) page by page
without reading the store's other SKUs; it is written with the item itself, so it costs no extra write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tiktok_channel.adapters.dynamo_items import attribute, from_item, model_attributes
from tiktok_channel.catalog.mapping import ImageSize
from tiktok_channel.catalog.visibility import CategoryVisibility
from tiktok_channel.models.catalog import SkuRecord, SkuStatus, SyncRun

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SKU_STATUS_INDEX = "sku-status"
RUN_TTL_SECONDS = 7 * 86_400
IMAGE_TTL_SECONDS = 30 * 86_400
_BATCH_GET = 100  # DynamoDB's BatchGetItem limit
_BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit


def sku_key(store_id: int, sku_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"SKU#{sku_id}"}}


def sku_status_key(store_id: int, status: str) -> str:
    """The `sku-status` index's hash key: one store's SKUs of one status."""
    return f"STORE#{store_id}#{status}"


def _sku_item(store_id: int, record: SkuRecord) -> dict[str, Any]:
    return {
        **sku_key(store_id, record.sku_id),
        **model_attributes(record),
        "sku_status": {"S": sku_status_key(store_id, record.status)},
    }


def run_key(store_id: int, job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"RUN#{job_id}"}}


def _categories_key(store_id: int) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "CATEGORIES"}}


def image_key(url: str) -> dict[str, Any]:
    return {"pk": {"S": f"IMAGE#{hashlib.sha256(url.encode()).hexdigest()}"}, "sk": {"S": "IMAGE"}}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DynamoCatalogRepository:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name
        self.items_written = 0  # counted for the benchmark and the logs

    # -- SKU items -----------------------------------------------------------------------------
    def get_skus(self, store_id: int, sku_ids: Iterable[str]) -> dict[str, SkuRecord]:
        keys = [sku_key(store_id, sku_id) for sku_id in dict.fromkeys(sku_ids)]
        found: dict[str, SkuRecord] = {}
        for chunk in _chunks(keys, _BATCH_GET):
            request: dict[str, Any] = {self._table: {"Keys": list(chunk), "ConsistentRead": True}}
            while request:
                answer = self._db.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._table, []):
                    record = SkuRecord.model_validate(from_item(item))
                    found[record.sku_id] = record
                request = dict(answer.get("UnprocessedKeys") or {})
        return found

    def put_skus(self, store_id: int, records: Iterable[SkuRecord]) -> None:
        self._write([{"PutRequest": {"Item": _sku_item(store_id, r)}} for r in records])

    def delete_skus(self, store_id: int, sku_ids: Iterable[str]) -> None:
        self._write([{"DeleteRequest": {"Key": sku_key(store_id, sku_id)}} for sku_id in dict.fromkeys(sku_ids)])

    def all_skus(self, store_id: int) -> Iterator[SkuRecord]:
        paginator = self._db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sku)",
            ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":sku": {"S": "SKU#"}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                yield SkuRecord.model_validate(from_item(item))

    def skus_by_status(
        self, store_id: int, status: SkuStatus, *, limit: int, after_sku: str | None = None
    ) -> tuple[list[SkuRecord], str | None]:
        """One page of a store's SKUs of one status, in sku_id order, from the `sku-status` index.

        Answers the page and the sku_id to continue after (None: this was the last page).
        """
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SKU_STATUS_INDEX,
            "KeyConditionExpression": "sku_status = :status",
            "ExpressionAttributeValues": {":status": {"S": sku_status_key(store_id, status)}},
            "Limit": limit + 1,  # one more than shown: the last page then needs no empty page after it
        }
        if after_sku is not None:
            request["ExclusiveStartKey"] = {
                **sku_key(store_id, after_sku),
                "sku_status": {"S": sku_status_key(store_id, status)},
            }
        answer = self._db.query(**request)
        records = [SkuRecord.model_validate(from_item(item)) for item in answer["Items"]]
        if len(records) > limit:
            return records[:limit], records[limit - 1].sku_id
        last = answer.get("LastEvaluatedKey")  # DynamoDB stopped early (1 MB per query)
        return records, last["sk"]["S"].removeprefix("SKU#") if last else None

    def skus_of_product(self, store_id: int, product_id: int) -> dict[str, SkuRecord]:
        """Every SKU item of one product: the product's own, and one per variation it had."""
        answer = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sku)",
            ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":sku": {"S": f"SKU#{product_id}"}},
            ConsistentRead=True,
        )
        records = (SkuRecord.model_validate(from_item(item)) for item in answer["Items"])
        return {r.sku_id: r for r in records if r.product_id == product_id}

    # -- categories hidden or kept off, kept for the events between full syncs -------------------
    def get_categories(self, store_id: int) -> CategoryVisibility | None:
        item = self._db.get_item(TableName=self._table, Key=_categories_key(store_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        return CategoryVisibility(
            hidden=frozenset(int(i) for i in values.get("hidden", [])),
            kept_off=frozenset(int(i) for i in values.get("kept_off", [])),  # absent in items of earlier releases
        )

    def put_categories(self, store_id: int, categories: CategoryVisibility) -> None:
        item = {
            **_categories_key(store_id),
            "hidden": attribute(sorted(categories.hidden)),
            "kept_off": attribute(sorted(categories.kept_off)),
        }
        self._db.put_item(TableName=self._table, Item=item)
        self.items_written += 1

    # -- sync runs -----------------------------------------------------------------------------
    def get_run(self, store_id: int, job_id: str) -> SyncRun | None:
        answer = self._db.get_item(TableName=self._table, Key=run_key(store_id, job_id), ConsistentRead=True)
        item = answer.get("Item")
        return SyncRun.model_validate(from_item(item)) if item else None

    def put_run(self, store_id: int, run: SyncRun, now: float) -> None:
        item = {**run_key(store_id, run.job_id), **model_attributes(run), "ttl": attribute(int(now) + RUN_TTL_SECONDS)}
        self._db.put_item(TableName=self._table, Item=item)
        self.items_written += 1

    def record_page(self, store_id: int, job_id: str, offset: int, sku_ids: Iterable[str], now: float) -> None:
        """Remember which SKUs a page showed, so the end of the run knows what disappeared."""
        item = {
            "pk": {"S": f"STORE#{store_id}"},
            "sk": {"S": f"RUN#{job_id}#PAGE#{offset:09d}"},
            "sku_ids": attribute(sorted(set(sku_ids))),
            "ttl": attribute(int(now) + RUN_TTL_SECONDS),
        }
        self._db.put_item(TableName=self._table, Item=item)
        self.items_written += 1

    def seen_skus(self, store_id: int, job_id: str) -> set[str]:
        seen: set[str] = set()
        paginator = self._db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :page)",
            ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":page": {"S": f"RUN#{job_id}#PAGE#"}},
            ProjectionExpression="sku_ids",
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                seen.update(value["S"] for value in item.get("sku_ids", {}).get("L", []))
        return seen

    # -- image sizes ---------------------------------------------------------------------------
    def get_image_sizes(self, urls: Sequence[str]) -> dict[str, ImageSize]:
        keys = {image_key(url)["pk"]["S"]: url for url in urls}
        found: dict[str, ImageSize] = {}
        for chunk in _chunks(list(keys), _BATCH_GET):
            request: dict[str, Any] = {self._table: {"Keys": [{"pk": {"S": pk}, "sk": {"S": "IMAGE"}} for pk in chunk]}}
            while request:
                answer = self._db.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._table, []):
                    data = from_item(item)
                    url = keys[item["pk"]["S"]]
                    found[url] = ImageSize(
                        width=int(data["width"]), height=int(data["height"]), format=str(data["format"])
                    )
                request = dict(answer.get("UnprocessedKeys") or {})
        return found

    def put_image_sizes(self, sizes: dict[str, ImageSize], now: float) -> None:
        """Remember image sizes read from the images themselves, so later syncs need no ranged GET."""
        expires = attribute(int(now) + IMAGE_TTL_SECONDS)
        self._write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            **image_key(url),
                            "width": attribute(size.width),
                            "height": attribute(size.height),
                            "format": attribute(size.format),
                            "ttl": expires,
                        }
                    }
                }
                for url, size in sizes.items()
            ]
        )

    # -- plumbing ------------------------------------------------------------------------------
    def _write(self, requests: list[dict[str, Any]]) -> None:
        for chunk in _chunks(requests, _BATCH_WRITE):
            pending: dict[str, Any] = {self._table: list(chunk)}
            while pending:
                answer = self._db.batch_write_item(RequestItems=pending)
                pending = dict(answer.get("UnprocessedItems") or {})
            self.items_written += len(chunk)
