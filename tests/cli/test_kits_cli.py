"""``stockpilot kits …`` and ``stockpilot worker --once``, run in-process against the test
database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from stockpilot.catalog import service as catalog
from stockpilot.catalog.schemas import ItemCreate
from stockpilot.cli.main import app
from stockpilot.persistence.db import Database
from stockpilot.settings import get_settings
from stockpilot.shared.actor import SYSTEM
from stockpilot.webhooks import subscriptions
from stockpilot.webhooks.schemas import WebhookCreate
from tests.support.receiver import Receiver
from tests.support.world import build_world, receive


@pytest.fixture
def cli(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STOCKPILOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    return CliRunner()


def test_a_kit_is_declared_assembled_and_taken_apart_from_the_command_line(
    cli: CliRunner, db: Database
) -> None:
    build_world(db)
    receive(db, "SKU-1", 9, "A-01")
    db.run(lambda c: catalog.create_item(c, SYSTEM, ItemCreate(sku="KIT-1")))
    added = cli.invoke(app, ["kits", "add", "KIT-1", "--component", "SKU-1=3"])
    assert added.exit_code == 0, added.output
    made = cli.invoke(
        app, ["kits", "assemble", "KIT-1", "--site", "WH1", "--location", "B-01", "--quantity", "2"]
    )
    assert made.exit_code == 0, made.output
    shown = cli.invoke(app, ["kits", "availability", "KIT-1", "--site", "WH1"])
    assert "2 assembled, 1 buildable" in shown.output
    apart = cli.invoke(
        app,
        ["kits", "disassemble", "KIT-1", "--site", "WH1", "--location", "B-01", "--quantity", "3"],
    )
    assert apart.exit_code == 1 and "KIT-1" in apart.output  # only 2 assembled
    bad = cli.invoke(app, ["kits", "add", "KIT-1", "--component", "SKU-1"])
    assert bad.exit_code != 0


def test_worker_once_delivers_what_is_waiting(cli: CliRunner, db: Database) -> None:
    build_world(db)
    with Receiver.running() as receiver:
        cmd = WebhookCreate(url=receiver.url, topics=["stock.moved"])
        db.run(lambda c: subscriptions.create_subscription(c, SYSTEM, cmd))
        receive(db, "SKU-1", 4, "A-01")
        result = cli.invoke(app, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert "1 delivered, 0 failed" in result.output
        assert [m["type"] for m in receiver.messages()] == ["stock.moved"]
