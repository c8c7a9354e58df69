"""``stockpilot kits …``: declare a kit, read its availability, assemble and take apart."""

from __future__ import annotations

from typing import Annotated

import typer


def add(
    sku: Annotated[str, typer.Argument(help="The kit's item (it must exist).")],
    component: Annotated[
        list[str],
        typer.Option("--component", help="SKU=UNITS, base units in one kit (repeatable)."),
    ],
    description: Annotated[str | None, typer.Option(help="What the kit is.")] = None,
) -> None:
    """Declare a kit's bill of material."""
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.kitting.kits import create_kit
    from stockpilot.kitting.schemas import KitComponentIn, KitCreate
    from stockpilot.shared.actor import SYSTEM

    @handled
    def run() -> None:
        parts = []
        for text in component:
            code, sep, units = text.rpartition("=")
            if not sep or not code or not units.isdigit():
                raise typer.BadParameter(f"{text!r} is not SKU=UNITS", param_hint="--component")
            parts.append(KitComponentIn(sku=code, quantity=int(units)))
        cmd = KitCreate(sku=sku, description=description, components=parts)
        with database() as db:
            body = db.run(lambda conn: create_kit(conn, SYSTEM, cmd))
        stdout().print(f"kit {body['sku']}: {len(body['components'])} component(s)")

    run()


def availability(
    sku: Annotated[str, typer.Argument(help="The kit's SKU.")],
    site: Annotated[str, typer.Option("--site", help="The site.")],
) -> None:
    """Assembled kits available at a site, and how many more the components make."""
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.kitting.kits import kit_availability
    from stockpilot.shared.actor import SYSTEM

    @handled
    def run() -> None:
        with database() as db, db.read() as conn:
            got = kit_availability(conn, SYSTEM, sku, site)
        stdout().print(
            f"{sku} at {site}: {got['quantity_available']} assembled, "
            f"{got['quantity_buildable']} buildable"
        )
        for c in got["components"]:
            stdout().print(
                f"  {c['sku']}: {c['quantity_available']} available, "
                f"{c['quantity_per_kit']} per kit -> {c['kits']} kit(s)"
            )

    run()


def _order(kind: str, sku: str, site: str, location: str, quantity: int) -> None:
    from stockpilot.cli.main import database, handled, stdout
    from stockpilot.kitting import orders
    from stockpilot.kitting.schemas import KitOrderCreate
    from stockpilot.shared.actor import SYSTEM

    @handled
    def run() -> None:
        cmd = KitOrderCreate.model_validate(
            {"kit": sku, "kind": kind, "site": site, "location": location,
             "quantity": quantity, "complete": True}
        )  # fmt: skip
        with database() as db:
            order_id = db.run(lambda conn: orders.create_order(conn, SYSTEM, cmd))
        stdout().print(f"kit order {order_id}: {kind}d {quantity} {sku} at {site} {location}")

    run()


Location = Annotated[str, typer.Option("--location", help="The bin the kits go to / come from.")]
Quantity = Annotated[int, typer.Option("--quantity", min=1, help="Kits.")]
Site = Annotated[str, typer.Option("--site", help="The site.")]
Sku = Annotated[str, typer.Argument(help="The kit's SKU.")]


def assemble(sku: Sku, site: Site, location: Location, quantity: Quantity) -> None:
    """Assemble kits now: components into @KITTING, kits out into the bin."""
    _order("assemble", sku, site, location, quantity)


def disassemble(sku: Sku, site: Site, location: Location, quantity: Quantity) -> None:
    """Take kits apart now: kits into @KITTING, components back into the bin."""
    _order("disassemble", sku, site, location, quantity)


def register(app: typer.Typer) -> None:
    """Add the ``kits`` command group to ``app``."""
    group = typer.Typer(help="Kits: bills of material, assembly.", no_args_is_help=True)
    group.command("add")(add)
    group.command("availability")(availability)
    group.command("assemble")(assemble)
    group.command("disassemble")(disassemble)
    app.add_typer(group, name="kits")
