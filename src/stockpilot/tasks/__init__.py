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
from stockpilot.tasks.priority import (
    Operator,
    PriorityWeights,
    RankedTask,
    TaskFacts,
    TaskPriority,
    next_tasks,
    prioritise,
    score_task,
)
from stockpilot.tasks.putaway import (
    BinRow,
    BinScore,
    BinTable,
    Holdings,
    PutawayDecision,
    PutawayItem,
    PutawayRequest,
    Violation,
    check_bin,
    choose_bin,
    choose_bins,
)
from stockpilot.tasks.ranking import TaskTable, next_tasks_from_table, score_table
from stockpilot.tasks.replenish import (
    PickFace,
    ReplenishmentDecision,
    ReplenishMove,
    ReserveStock,
    decide_replenishment,
    plan_replenishments,
)

__all__ = [
    "BinRow",
    "BinScore",
    "BinTable",
    "Holdings",
    "Operator",
    "PickFace",
    "PickPath",
    "PickStop",
    "PriorityWeights",
    "PutawayDecision",
    "PutawayItem",
    "PutawayRequest",
    "RankedTask",
    "ReplenishMove",
    "ReplenishmentDecision",
    "ReserveStock",
    "TaskFacts",
    "TaskPriority",
    "TaskTable",
    "Violation",
    "check_bin",
    "choose_bin",
    "choose_bins",
    "decide_replenishment",
    "mean_travel_per_line",
    "next_tasks",
    "next_tasks_from_table",
    "order_picks",
    "plan_replenishments",
    "prioritise",
    "score_table",
    "score_task",
    "travel_per_line",
]
