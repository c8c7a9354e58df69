"""Roles and what each may do: the one place permission is decided.

Permissions are ``resource:verb``. Site scope is separate: a user bound to sites sees and
changes only their rows (``Actor.can_see_site``); roles marked global see every site.
"""

from __future__ import annotations

from typing import Final

ROLES: Final = (
    "admin",
    "planner",
    "buyer",
    "warehouse_operator",
    "warehouse_supervisor",
    "inventory_controller",
    "auditor",
    "integration",
)

_READ_MASTER = {
    "items:read",
    "sites:read",
    "locations:read",
    "customers:read",
    "suppliers:read",
    "reference:read",
}
_READ_STOCK = {
    "stock:read",
    "moves:read",
    "sales_orders:read",
    "purchase_orders:read",
    "transfer_orders:read",
    "tasks:read",
    "kits:read",
}
# Cycle counts, returns and the approvals of the inventory controls (docs/flows/counting.md).
_CONTROL_READ = {"counts:read", "returns:read", "adjustments:read"}
_CONTROL_APPROVE = {"counts:write", "counts:approve", "adjustments:approve"}

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "admin": frozenset({"*"}),
    "planner": frozenset(
        _READ_MASTER
        | _READ_STOCK
        | {"planning:read", "planning:write", "cost:read", "transfer_orders:write"}
    ),
    "buyer": frozenset(
        _READ_MASTER
        | _READ_STOCK
        | {
            "planning:read",
            "planning:write",
            "cost:read",
            "suppliers:write",
            "purchase_orders:write",
            "transfer_orders:write",
        }
    ),
    "warehouse_operator": frozenset(
        _READ_MASTER
        | _READ_STOCK
        | {
            "stock:write",
            "sales_orders:pick",
            "tasks:write",
            "transfer_orders:execute",
            "returns:write",
            "kits:assemble",
        }
    ),
    "warehouse_supervisor": frozenset(
        _READ_MASTER
        | _READ_STOCK
        | {
            "stock:write",
            "stock:adjust",
            "sales_orders:write",
            "sales_orders:pick",
            "locations:write",
            "audit:read",
            "tasks:write",
            "receipts:approve",
            "transfer_orders:write",
            "transfer_orders:execute",
            "transfer_orders:resolve",
            "returns:write",
            "kits:write",
            "kits:assemble",
        }
        | _CONTROL_READ
        | _CONTROL_APPROVE
    ),
    "inventory_controller": frozenset(
        _READ_MASTER
        | _READ_STOCK
        | {
            "stock:adjust",
            "cost:read",
            "items:write",
            "audit:read",
            "ledger:verify",
            "planning:read",
            "planning:approve",
            "reference:write",
            "transfer_orders:resolve",
            "valuation:write",
            "valuation:approve",
            "kits:write",
        }
        | _CONTROL_READ
        | _CONTROL_APPROVE
    ),
    "auditor": frozenset(
        _READ_MASTER | _READ_STOCK | _CONTROL_READ | {"audit:read", "cost:read", "planning:read"}
    ),
    "integration": frozenset(
        _READ_MASTER
        | _READ_STOCK
        | {
            "items:write",
            "customers:write",
            "suppliers:write",
            "locations:write",
            "companies:write",
            "reference:write",
            "stock:write",
            "sales_orders:write",
            "sales_orders:pick",
            "cost:read",
            "purchase_orders:write",
            "transfer_orders:write",
            "transfer_orders:execute",
            "tasks:write",
            "returns:write",
            "returns:read",
            "webhooks:read",
            "webhooks:write",
            "kits:write",
            "kits:assemble",
        }
    ),
}


def allows(role: str, permission: str) -> bool:
    granted = PERMISSIONS.get(role, frozenset())
    return "*" in granted or permission in granted


def can_see_cost(role: str) -> bool:
    return allows(role, "cost:read")
