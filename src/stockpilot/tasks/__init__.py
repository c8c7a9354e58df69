"""Warehouse task rules: pure decisions (putaway scoring, pick paths, pick-face replenishment,
task priority) that the task services call with plain data."""

from __future__ import annotations

from stockpilot.tasks.pickpath import (
    PickPath,
    PickStop,
    mean_travel_per_line,
    order_picks,
    travel_per_line,
)
from stockpilot.tasks.putaway import (
    BinRow,
    BinScore,
    BinTable,
    Holdings,
    PutawayDecision,
    PutawayItem,
    Violation,
    check_bin,
    choose_bin,
)

__all__ = [
    "BinRow",
    "BinScore",
    "BinTable",
    "Holdings",
    "PickPath",
    "PickStop",
    "PutawayDecision",
    "PutawayItem",
    "Violation",
    "check_bin",
    "choose_bin",
    "mean_travel_per_line",
    "order_picks",
    "travel_per_line",
]
