"""Scenarios on their HTML: a what-if run from the form is compared side by side with the
baseline and kept in the list; a bad number is named by its field; readers cannot run one."""

from __future__ import annotations

import json
import re

from stockpilot.persistence.db import Database
from stockpilot.replenishment.run import run_plan
from stockpilot.shared.actor import SYSTEM
from tests.integration.test_planning_run import AS_OF, _network
from tests.web.conftest import browser_as, form_fields, text_of


def test_a_supplier_disruption_is_compared_with_the_baseline(db: Database) -> None:
    _network(db)
    run_plan(db, as_of=AS_OF, actor=SYSTEM)
    with browser_as(db, "planner") as client:
        fields = form_fields(client.get("/scenarios").text, "/scenarios")
        body = {
            **fields,
            "name": "S1 strike",
            "kind": "supplier_disruption",
            "start": "2",
            "length": "6",
            "lead_time_factor": "3",
            "holdout": "26",
        }
        answer = client.post("/scenarios", data=body)
        assert answer.status_code == 200, text_of(answer.text)[-600:]
        table = text_of(answer.text.split('id="comparison"')[1].split("</table>")[0])
        assert "baseline" in table and "S1 strike" in table
        chart = re.search(r"id=\"chart\" data-chart='([^']*)'", answer.text)
        assert chart
        spec = json.loads(chart.group(1))
        assert spec["names"][0] == "baseline" and "S1 strike" in spec["names"]
        fill = dict(zip(spec["names"], spec["series"][0]["values"], strict=True))
        assert fill["S1 strike"] <= fill["baseline"]
        listed = client.get("/scenarios").text
        assert "S1 strike" in listed and "/scenarios?show=" in listed
        again = {**form_fields(listed, "/scenarios"), "kind": "demand_spike", "holdout": "x"}
        bad = client.post("/scenarios", data=again)
        assert bad.status_code == 422 and 'id="holdout-error"' in bad.text


def test_an_auditor_reads_scenarios_but_cannot_run_one(db: Database) -> None:
    _network(db)
    with browser_as(db, "auditor") as client:
        page = client.get("/scenarios")
        assert page.status_code == 200 and 'action="/scenarios"' not in page.text
        assert client.post("/scenarios", data={}).status_code == 403
