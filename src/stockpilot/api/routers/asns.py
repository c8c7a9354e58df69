"""Advance shipping notices: created from JSON or from a raw X12 856 interchange, listed and
read with their pallets and what was received. Routers parse, call the service, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from stockpilot.api.deps import DbDep, SettingsDep, VisibleSite, require
from stockpilot.api.idempotency import WriterDep
from stockpilot.api.models import PROBLEM_MEDIA_TYPE, Page, Problem, doc
from stockpilot.api.models.asns import Asn, AsnsCreated
from stockpilot.api.pagination import PageDep, page
from stockpilot.api.routing import VisibleRoute
from stockpilot.inbound import asns
from stockpilot.inbound.asn_schemas import AsnCreate
from stockpilot.inbound.edi_x12 import parse_856
from stockpilot.shared.actor import Actor
from stockpilot.shared.errors import StockpilotError, ValidationFailed

router = APIRouter(route_class=VisibleRoute, tags=["inbound"])

Reader = Annotated[Actor, require("purchase_orders:read")]
Writer = Annotated[Actor, require("purchase_orders:write")]

X12_MEDIA_TYPES = ("text/plain", "application/edi-x12")


class UnsupportedMediaType(StockpilotError):
    status = 415
    title = "Unsupported media type"
    type_suffix = "unsupported-media-type"


@router.post("/asns", status_code=201, responses=doc(Asn, 201, "Created"))
def create_asn(cmd: AsnCreate, writer: WriterDep, settings: SettingsDep, actor: Writer) -> Response:
    """An ASN from JSON: its lines name PO lines (by PO id or number), SKUs or GTINs,
    quantities, lots, expiry dates, serials and the SSCC of the pallet each travels on."""

    def work(conn: Connection) -> tuple[int, Any]:
        (asn_id,) = asns.create_asns(
            conn, actor, [asns.AsnDocument(cmd)], max_lines=settings.max_batch_lines
        )
        return 201, asns.get_asn(conn, actor, asn_id)

    return writer.run(actor, work).response()


# Declared as text/plain only: application/edi-x12 is accepted just the same, but generic
# clients and API fuzzers have no serializer for it and would refuse the whole schema.
_X12_BODY = {
    "requestBody": {
        "required": True,
        "description": "one X12 interchange of one or more 856 Ship Notice/Manifest sets "
        "(sent as text/plain or application/edi-x12)",
        "content": {
            "text/plain": {"schema": {"type": "string", "example": "ISA*00*          *00*…~"}}
        },
    }
}


@router.post(
    "/asns/x12",
    status_code=201,
    responses={
        **doc(AsnsCreated, 201, "Created"),
        415: {
            "model": Problem,
            "description": "The body is not sent as text/plain or application/edi-x12",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
    },
    openapi_extra=_X12_BODY,
)
async def create_asns_from_x12(
    request: Request, writer: WriterDep, settings: SettingsDep, actor: Writer
) -> Response:
    """ASNs from a raw X12 856 interchange (the body is the EDI text): every transaction set
    becomes one ASN, all or none; an error names the segment and element."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in X12_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"send the 856 as {' or '.join(X12_MEDIA_TYPES)}", field="content-type"
        )
    raw = await request.body()  # the body size limit (413) applies before this
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the 856 is not UTF-8 (or ASCII) text", field="body") from None
    if not text.strip():
        raise ValidationFailed("the body is empty: send the 856 interchange", field="body")
    # Parsing and writing run in the thread pool: a large interchange must not stall the loop.
    return await run_in_threadpool(_create_from_text, text, writer, actor, settings.max_batch_lines)


def _create_from_text(text: str, writer: Any, actor: Actor, max_lines: int) -> Response:
    docs = asns.documents_from_parsed(parse_856(text), "x12")

    def work(conn: Connection) -> tuple[int, Any]:
        ids = asns.create_asns(conn, actor, docs, max_lines=max_lines)
        return 201, {"ids": ids, "asns": [asns.get_asn(conn, actor, i) for i in ids]}

    return writer.run(actor, work).response()


@router.get("/asns", responses=doc(Page[Asn]))
def list_asns(
    db: DbDep, actor: Reader, paging: PageDep, site: VisibleSite, status: str | None = None
) -> Any:
    with db.read() as conn:
        rows = asns.list_asns(
            conn,
            actor,
            after_id=paging.after_id,
            limit=paging.fetch,
            site_id=site.id if site else None,
            status=status,
        )
    return page(rows, paging, lambda r: int(r["id"]))


@router.get("/asns/{asn_id:int}", responses=doc(Asn))
def get_asn(asn_id: int, db: DbDep, actor: Reader) -> Any:
    with db.read() as conn:
        return asns.get_asn(conn, actor, asn_id)
