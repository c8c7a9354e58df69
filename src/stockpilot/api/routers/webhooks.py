"""Webhook subscriptions, their delivery log and manual redelivery. The deliveries themselves
are made by the ``stockpilot worker`` process (webhooks/delivery.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy.engine import Connection

from stockpilot.api.deps import DbDep, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import Page, doc
from stockpilot.api.models.webhooks import (
    NewWebhook,
    Webhook,
    WebhookDelivery,
    WebhookDeliveryDetail,
)
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.shared.actor import Actor
from stockpilot.webhooks import subscriptions
from stockpilot.webhooks.schemas import WebhookCreate

router = APIRouter(route_class=VisibleRoute, tags=["webhooks"])

Reader = Annotated[Actor, require("webhooks:read")]
Writer = Annotated[Actor, require("webhooks:write")]


def _id(row: dict[str, Any]) -> int:
    return int(row["id"])


@router.post("/webhooks", status_code=201, responses=doc(NewWebhook, 201, "Created"))
def create_webhook(cmd: WebhookCreate, writer: WriterDep, actor: Writer) -> Response:
    """Subscribe a URL to event topics (and optionally one site). The answer carries the
    signing secret; events written from now on are delivered."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 201, subscriptions.create_subscription(conn, actor, cmd)

    return writer.run(actor, work).response()


@router.get("/webhooks", responses=doc(Page[Webhook]))
def list_webhooks(db: DbDep, actor: Reader, paging: PageDep) -> Any:
    with db.read() as conn:
        rows = subscriptions.list_subscriptions(conn, actor, paging.after_id, paging.fetch)
    return page(rows, paging, _id)


@router.get("/webhooks/{webhook_id:int}", responses=doc(Webhook))
def get_webhook(webhook_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return subscriptions.get_subscription(conn, actor, webhook_id)


@router.delete("/webhooks/{webhook_id:int}", responses=doc(Webhook))
def delete_webhook(webhook_id: int, writer: WriterDep, actor: Writer) -> Response:
    """Stop a subscription; its delivery log stays readable in the audit trail."""

    def work(conn: Connection) -> tuple[int, Any]:
        body = subscriptions.get_subscription(conn, actor, webhook_id)
        subscriptions.delete_subscription(conn, actor, webhook_id)
        return 200, {**body, "active": False}

    return writer.run(actor, work).response()


@router.get("/webhooks/{webhook_id:int}/deliveries", responses=doc(Page[WebhookDelivery]))
def list_deliveries(
    webhook_id: int,
    db: DbDep,
    actor: Reader,
    paging: PageDep,
    state: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
) -> Any:
    with db.read() as conn:
        rows = subscriptions.list_deliveries(
            conn, actor, webhook_id, paging.after_id, paging.fetch, state
        )
    return page(rows, paging, _id)


@router.get(
    "/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}",
    responses=doc(WebhookDeliveryDetail),
)
def get_delivery(webhook_id: int, delivery_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return subscriptions.get_delivery(conn, actor, webhook_id, delivery_id)


@router.post(
    "/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/redeliver",
    responses=doc(WebhookDeliveryDetail),
)
def redeliver(webhook_id: int, delivery_id: int, writer: WriterDep, actor: Writer) -> Response:
    """Send a delivered or failed event again (a fresh retry budget)."""

    def work(conn: Connection) -> tuple[int, Any]:
        return 200, subscriptions.redeliver(conn, actor, webhook_id, delivery_id)

    return writer.run(actor, work).response()
