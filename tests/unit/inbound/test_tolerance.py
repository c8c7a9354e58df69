"""Receiving tolerance and purchase order states, in small worked examples."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from stockpilot.inbound.tolerance import (
    DEFAULT_TOLERANCE_PERCENT,
    TRANSITIONS,
    Approval,
    ApprovalRefused,
    LineQuantities,
    OverTolerance,
    POState,
    ReceiptDecision,
    allowed_total,
    allowed_total_under,
    check_transition,
    decide_receipt,
    derive_state,
    ensure_accepted,
    ensure_receivable,
    receipt_transition,
    supplier_tolerance,
)
from stockpilot.shared.errors import Conflict, ValidationFailed

SUPERVISOR = Approval("sam.supervisor", is_supervisor=True)


def receive(
    ordered: int,
    before: int,
    now: int,
    *,
    tolerance_percent: Decimal = DEFAULT_TOLERANCE_PERCENT,
    approval: Approval | None = None,
) -> ReceiptDecision:
    return decide_receipt(
        ordered=ordered,
        received_before=before,
        receiving=now,
        tolerance_percent=tolerance_percent,
        receiver="olga",
        approval=approval,
    )


# --- tolerance ----------------------------------------------------------------------------------


def test_the_default_tolerance_is_five_percent() -> None:
    assert supplier_tolerance(None) == Decimal(5)
    assert supplier_tolerance("2.5") == Decimal("2.5")


@pytest.mark.parametrize("bad", ["-1", "101", "abc", "NaN"])
def test_a_tolerance_outside_0_to_100_percent_is_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        supplier_tolerance(bad)
    assert caught.value.field == "tolerance_percent"


@pytest.mark.parametrize(
    ("ordered", "percent", "most", "least"),
    [
        (100, "5", 105, 95),
        (10, "5", 10, 10),  # 10.5 and 9.5: no whole unit of slack either way
        (20, "5", 21, 19),
        (1000, "2.5", 1025, 975),
        (7, "0", 7, 7),
        (3, "100", 6, 0),
    ],
)
def test_the_tolerance_band_is_in_whole_units(
    ordered: int, percent: str, most: int, least: int
) -> None:
    assert allowed_total(ordered, Decimal(percent)) == most
    assert allowed_total_under(ordered, Decimal(percent)) == least


def test_receiving_exactly_the_order_is_within_tolerance_and_completes_the_line() -> None:
    decision = receive(100, 0, 100)
    assert (decision.outcome, decision.accepted, decision.line_complete) == ("within", True, True)
    assert decision.quantity_open == 0 and decision.quantity_over == 0


def test_up_to_five_percent_more_is_accepted_without_approval() -> None:
    decision = receive(100, 60, 45)
    assert (decision.outcome, decision.accepted) == ("within", True)
    assert decision.quantity_over == 5
    assert decision.message == (
        "ordered 100, received before 60, receiving 45: 105 in total; "
        "within the 5 % tolerance (at most 105)"
    )


def test_one_unit_beyond_the_tolerance_is_refused_with_the_numbers() -> None:
    decision = receive(100, 60, 46)
    assert (decision.outcome, decision.accepted) == ("over", False)
    assert decision.message == (
        "ordered 100, received before 60, receiving 46: 106 in total; over the 5 % tolerance, "
        "which allows at most 105 (1 too many), so a supervisor other than the receiver "
        "must approve it"
    )
    with pytest.raises(OverTolerance) as caught:
        ensure_accepted(decision, field="lines[0].quantity")
    problem = caught.value.problem()
    assert (problem["status"], problem["field"]) == (422, "lines[0].quantity")
    assert (problem["quantity_allowed"], problem["quantity_receiving"]) == (105, 46)


def test_a_supplier_with_a_tighter_tolerance_refuses_sooner() -> None:
    assert receive(100, 0, 102, tolerance_percent=Decimal(1)).outcome == "over"
    assert receive(100, 0, 101, tolerance_percent=Decimal(1)).outcome == "within"


def test_a_supervisor_who_is_not_the_receiver_may_approve_an_over_receipt() -> None:
    decision = receive(100, 0, 130, approval=SUPERVISOR)
    assert (decision.outcome, decision.accepted, decision.approved_by) == (
        "over",
        True,
        "sam.supervisor",
    )
    assert decision.message.endswith("; approved by sam.supervisor")
    assert ensure_accepted(decision) is decision


def test_the_receiver_cannot_approve_their_own_over_receipt() -> None:
    with pytest.raises(ApprovalRefused) as caught:
        receive(100, 0, 130, approval=Approval("olga", is_supervisor=True))
    assert (caught.value.status, caught.value.field) == (403, "approved_by")


def test_an_approver_without_the_supervisor_right_is_refused() -> None:
    with pytest.raises(ApprovalRefused, match="may not approve"):
        receive(100, 0, 130, approval=Approval("pete", is_supervisor=False))


def test_an_approval_is_not_needed_or_recorded_within_tolerance() -> None:
    decision = receive(100, 0, 100, approval=Approval("olga", is_supervisor=False))
    assert (decision.accepted, decision.approved_by) == (True, None)


def test_a_short_receipt_leaves_the_line_open_with_what_is_missing() -> None:
    decision = receive(100, 0, 60)
    assert (decision.outcome, decision.accepted, decision.line_complete) == ("under", True, False)
    assert decision.quantity_open == 40
    assert decision.message.endswith("60 in total; 40 still open (partially received)")
    assert not decision.may_close_short


def test_a_shortfall_within_tolerance_may_be_closed_short_by_the_buyer() -> None:
    assert receive(100, 90, 5).may_close_short  # 95 of 100
    assert not receive(100, 90, 4).may_close_short  # 94 of 100


def test_a_line_already_over_its_order_refuses_any_more_without_approval() -> None:
    assert receive(100, 105, 1).outcome == "over"


@pytest.mark.parametrize(
    ("ordered", "before", "now", "field"),
    [
        (100, 0, 0, "quantity"),
        (100, 0, -3, "quantity"),
        (0, 0, 1, "ordered"),
        (10, -1, 1, "received_before"),
    ],
)
def test_impossible_quantities_are_refused_naming_the_field(
    ordered: int, before: int, now: int, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        receive(ordered, before, now)
    assert caught.value.field == field


# --- purchase order states ----------------------------------------------------------------------


def test_the_legal_steps_of_a_purchase_order() -> None:
    assert {(a.value, b.value) for a, b in TRANSITIONS} == {
        ("draft", "confirmed"),
        ("draft", "cancelled"),
        ("confirmed", "partially_received"),
        ("confirmed", "received"),
        ("confirmed", "cancelled"),
        ("partially_received", "received"),
        ("partially_received", "closed"),
        ("received", "closed"),
    }


def test_a_legal_step_is_returned_typed() -> None:
    assert check_transition("draft", "confirmed") == (POState.DRAFT, POState.CONFIRMED)


@pytest.mark.parametrize(
    ("from_state", "to_state"),
    [
        ("draft", "received"),
        ("received", "cancelled"),
        ("partially_received", "cancelled"),
        ("closed", "confirmed"),
        ("cancelled", "confirmed"),
        ("confirmed", "confirmed"),
    ],
)
def test_an_illegal_step_is_a_409_naming_both_states(from_state: str, to_state: str) -> None:
    with pytest.raises(Conflict) as caught:
        check_transition(from_state, to_state)
    assert caught.value.status == 409
    assert caught.value.detail == f"a purchase order cannot go from {from_state} to {to_state}"


def test_an_unknown_state_is_refused_naming_it() -> None:
    with pytest.raises(ValidationFailed, match="unknown purchase order state 'shipped'"):
        check_transition("confirmed", "shipped")


@pytest.mark.parametrize(
    ("lines", "state"),
    [
        ([(100, 0), (50, 0)], "confirmed"),
        ([(100, 40), (50, 0)], "partially_received"),
        ([(100, 100), (50, 49)], "partially_received"),
        ([(100, 100), (50, 50)], "received"),
        ([(100, 104), (50, 50)], "received"),
    ],
)
def test_the_receiving_state_follows_from_line_quantities(
    lines: list[tuple[int, int]], state: str
) -> None:
    quantities = [LineQuantities(o, r) for o, r in lines]
    assert derive_state("confirmed", quantities) == state
    assert derive_state("partially_received", quantities) == state


def test_lines_closed_short_with_the_rest_received_close_the_order() -> None:
    lines = [LineQuantities(100, 100), LineQuantities(50, 48, closed=True)]
    assert derive_state("partially_received", lines) == POState.CLOSED


@pytest.mark.parametrize("state", ["draft", "closed", "cancelled"])
def test_states_set_by_people_do_not_follow_the_quantities(state: str) -> None:
    assert derive_state(state, [LineQuantities(10, 10)]) == state


def test_a_receipt_moves_a_confirmed_order_to_partially_received() -> None:
    assert receipt_transition("confirmed", [LineQuantities(10, 3)]) == POState.PARTIALLY_RECEIVED


def test_a_second_partial_receipt_changes_no_state() -> None:
    assert receipt_transition("partially_received", [LineQuantities(10, 6)]) is None


def test_the_last_receipt_moves_the_order_to_received() -> None:
    assert receipt_transition("partially_received", [LineQuantities(10, 10)]) == POState.RECEIVED


@pytest.mark.parametrize("state", ["draft", "closed", "cancelled"])
def test_a_receipt_against_a_draft_closed_or_cancelled_order_is_a_409(state: str) -> None:
    with pytest.raises(Conflict, match=f"a {state} purchase order cannot be received"):
        ensure_receivable(state)
    with pytest.raises(Conflict):
        receipt_transition(state, [LineQuantities(10, 1)])


def test_a_received_order_may_still_take_what_the_tolerance_allows() -> None:
    assert ensure_receivable("received") == POState.RECEIVED


# --- the package stays pure -------------------------------------------------------------------


def test_importing_the_inbound_rules_loads_no_database_code() -> None:
    code = (
        "import sys, stockpilot.inbound, stockpilot.inbound.tolerance;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'psycopg')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
