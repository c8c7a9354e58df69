"""Master data of the demo distributor, drawn with a seeded NumPy generator (pure: no database).

An industrial distributor: an import hub and branches replenished from it; items in eight
categories with their own cost levels, units (EA, cases, pallets), lot and serial tracking,
hazard and temperature classes; suppliers with lead-time distributions (some unreliable);
customers in priority tiers; zoned bins with walk sequences and capacities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Category:
    prefix: str
    name: str
    share: float
    nouns: tuple[str, ...]
    median_cost: float
    lot_share: float = 0.0
    shelf_life_days: tuple[int, int] = (0, 0)
    hazard_share: float = 0.0
    cool_share: float = 0.0
    serial_share: float = 0.0


CATEGORIES = (
    Category("FAS", "fasteners", 0.28, ("Hex bolt", "Socket screw", "Hex nut", "Washer",
             "Threaded rod", "Wedge anchor"), 0.35),
    Category("BRG", "bearings", 0.12, ("Ball bearing", "Taper roller bearing", "Pillow block",
             "Bronze bushing"), 24.0),
    Category("HYD", "hydraulics", 0.12, ("Hydraulic hose", "Hose fitting", "Quick coupling",
             "Ball valve", "Seal kit"), 38.0, lot_share=0.15, shelf_life_days=(1095, 1825)),
    Category("ELE", "electrical", 0.16, ("Cable", "Connector", "Fuse", "Contactor", "Relay",
             "Terminal block"), 11.0),
    Category("SAF", "safety", 0.10, ("Nitrile glove", "Safety goggles", "Ear plug",
             "Hi-vis vest", "Respirator filter"), 6.5, lot_share=0.25,
             shelf_life_days=(730, 1825)),
    Category("PTR", "power transmission", 0.09, ("V-belt", "Roller chain", "Sprocket",
             "Pulley", "Gear motor"), 55.0),
    Category("CHM", "lubricants and chemicals", 0.08, ("Grease cartridge", "Gear oil",
             "Threadlocker", "Degreaser", "Epoxy adhesive"), 14.0, lot_share=1.0,
             shelf_life_days=(180, 1095), hazard_share=0.4, cool_share=0.25),
    Category("TLS", "tools", 0.05, ("Cordless drill", "Impact driver", "Torque wrench",
             "Multimeter", "Angle grinder"), 140.0, serial_share=0.35),
)  # fmt: skip

CASE_SIZES = np.array([6, 10, 12, 20, 24, 50, 100])
FASTENER_CASES = np.array([100, 200, 250, 500, 1000])
CRITICALITY = np.array(["high", "medium", "low"])
PICK_CAPACITY = 400
BULK_CAPACITY = 6000


def sku_code(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def category_of(n: int, rng: np.random.Generator) -> IntArray:
    shares = np.array([c.share for c in CATEGORIES])
    return rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum()).astype(np.int64)


def _money(values: FloatArray) -> list[Decimal]:
    return [Decimal(f"{v:.2f}") for v in values]


@dataclass
class Items:
    """The item master as columns (index = position in every per-item array)."""

    rows: list[dict[str, Any]]
    units: list[tuple[int, str, int]]  # (item index, uom, base units per uom)
    category: IntArray
    unit_cost: FloatArray
    pack_size: IntArray
    moq: IntArray
    supplier: IntArray
    lot_tracked: npt.NDArray[np.bool_]
    serial_tracked: npt.NDArray[np.bool_]
    hazardous: npt.NDArray[np.bool_]
    cool: npt.NDArray[np.bool_]
    shelf_life_days: IntArray

    @property
    def skus(self) -> list[str]:
        return [r["sku"] for r in self.rows]


def make_items(n: int, n_suppliers: int, rng: np.random.Generator) -> Items:
    cat = category_of(n, rng)
    u = rng.random((5, n))
    pick = np.array([c.lot_share for c in CATEGORIES])[cat]
    lot_tracked = u[0] < pick
    serial_tracked = (u[1] < np.array([c.serial_share for c in CATEGORIES])[cat]) & ~lot_tracked
    hazardous = u[2] < np.array([c.hazard_share for c in CATEGORIES])[cat]
    cool = (u[3] < np.array([c.cool_share for c in CATEGORIES])[cat]) & ~hazardous
    lo = np.array([c.shelf_life_days[0] for c in CATEGORIES])[cat]
    hi = np.array([c.shelf_life_days[1] for c in CATEGORIES])[cat]
    shelf = np.where(lot_tracked, lo + (u[4] * (hi - lo)).astype(np.int64), 0)
    median = np.array([c.median_cost for c in CATEGORIES])[cat]
    cost = np.maximum(0.05, median * rng.lognormal(0.0, 0.8, n))
    case = np.where(cat == 0, rng.choice(FASTENER_CASES, n), rng.choice(CASE_SIZES, n)).astype(
        np.int64
    )
    has_case = (cost * case < 2500) & ~serial_tracked
    pallet = case * rng.choice(np.array([20, 30, 40, 60]), n)
    sold_by_case = has_case & (rng.random(n) < 0.4)
    pack = np.where(sold_by_case, case, 1).astype(np.int64)
    moq = pack * rng.choice(np.array([1, 1, 1, 2, 5]), n)
    # A few large suppliers carry most lines (Zipf-like weights), as in real catalogues.
    weights = 1.0 / np.arange(1, n_suppliers + 1) ** 0.8
    supplier = rng.choice(n_suppliers, size=n, p=weights / weights.sum()).astype(np.int64)
    crit = CRITICALITY[rng.choice(3, size=n, p=[0.1, 0.3, 0.6])]
    dims = np.maximum(5, rng.lognormal(np.log(80), 0.9, (3, n))).astype(np.int64)
    weight = np.maximum(1, rng.lognormal(np.log(150), 1.2, n)).astype(np.int64)
    sizes = rng.integers(3, 40, n)
    noun_pick = rng.integers(0, 1000, n)
    costs = _money(cost)
    rows: list[dict[str, Any]] = []
    units: list[tuple[int, str, int]] = []
    for i in range(n):
        c = CATEGORIES[int(cat[i])]
        noun = c.nouns[int(noun_pick[i]) % len(c.nouns)]
        rows.append(
            {
                "sku": sku_code(c.prefix, i + 1),
                "description": f"{noun} {_size(c.prefix, int(sizes[i]))}",
                "base_uom": "EA",
                "lot_tracked": bool(lot_tracked[i]),
                "serial_tracked": bool(serial_tracked[i]),
                "shelf_life_days": int(shelf[i]) if lot_tracked[i] else None,
                "hazard_class": "3" if hazardous[i] else None,
                "temperature_class": "cool" if cool[i] else None,
                "length_mm": int(dims[0, i]),
                "width_mm": int(dims[1, i]),
                "height_mm": int(dims[2, i]),
                "weight_g": int(weight[i]),
                "pack_size": int(pack[i]),
                "moq": int(moq[i]),
                "unit_cost": costs[i],
                "criticality": str(crit[i]),
            }
        )
        if has_case[i]:
            units.append((i, "CS", int(case[i])))
            units.append((i, "PAL", int(pallet[i])))
    return Items(
        rows, units, cat, cost, pack, moq, supplier, lot_tracked, serial_tracked, hazardous,
        cool, shelf,
    )  # fmt: skip


def _size(prefix: str, size: int) -> str:
    if prefix == "FAS":
        return f"M{size // 3 + 3}x{size * 5} zinc"
    if prefix == "BRG":
        return f"{6000 + size * 7} 2RS"
    if prefix == "ELE":
        return f"{size}A"
    return f"type {size:02d}"


_SUPPLIER_WORDS = (
    "Nordic",
    "Atlas",
    "Delta",
    "Pioneer",
    "Summit",
    "Vector",
    "Keystone",
    "Meridian",
    "Granite",
    "Harbor",
    "Orion",
    "Titan",
    "Cobalt",
    "Sterling",
)
_SUPPLIER_KINDS = ("Industrial", "Fasteners", "Bearings", "Fluid Power", "Electric", "Safety",
                   "Drives", "Chemicals", "Tools", "Components")  # fmt: skip


def make_suppliers(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Domestic (days), regional (weeks) and overseas (months) suppliers; a fifth unreliable."""
    origin = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    mean = np.select(
        [origin == 0, origin == 1], [rng.uniform(3, 10, n), rng.uniform(10, 25, n)],
        rng.uniform(30, 75, n),
    )  # fmt: skip
    unreliable = rng.random(n) < 0.2
    cv = np.where(unreliable, rng.uniform(0.4, 0.8, n), rng.uniform(0.08, 0.25, n))
    return [
        {
            "code": f"SUP-{i + 1:03d}",
            "name": f"{_SUPPLIER_WORDS[i % len(_SUPPLIER_WORDS)]} "
            f"{_SUPPLIER_KINDS[(i // len(_SUPPLIER_WORDS) + i) % len(_SUPPLIER_KINDS)]}"
            f"{'' if i < len(_SUPPLIER_WORDS) else f' {i // len(_SUPPLIER_WORDS) + 1}'}",
            "lead_time_days": round(float(mean[i]), 1),
            "lead_time_std_days": round(float(mean[i] * cv[i]), 1),
        }
        for i in range(n)
    ]


_TOWNS = (
    "Ashford",
    "Brenton",
    "Calder",
    "Dunmore",
    "Elmstead",
    "Farley",
    "Glenrock",
    "Hollins",
    "Irvine",
    "Kelso",
    "Linden",
    "Marsh",
    "Norwood",
    "Oakham",
    "Preston",
)
_TRADES = ("Machining", "Plant Services", "Maintenance", "Fabrication", "Construction",
           "Agri Equipment", "Marine", "Mining Supply", "Food Processing", "Utilities")  # fmt: skip


def make_customers(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Priority 1 (key accounts) to 4 (cash customers)."""
    tier = rng.choice(np.array([1, 2, 3, 4]), size=n, p=[0.05, 0.15, 0.5, 0.3])
    return [
        {
            "code": f"CUS-{i + 1:05d}",
            "name": f"{_TOWNS[i % len(_TOWNS)]} {_TRADES[(i // len(_TOWNS)) % len(_TRADES)]}"
            f" {i // (len(_TOWNS) * len(_TRADES)) + 1}",
            "priority": int(tier[i]),
        }
        for i in range(n)
    ]


@dataclass(frozen=True)
class BinPlan:
    """How many bins of each zone one site gets."""

    pick: int
    bulk: int
    hazard: int
    cool: int
    staging: int
    dock: int


def bin_plan(skus: int, hub: bool) -> BinPlan:
    scale = 1.0 if hub else 0.5
    return BinPlan(
        pick=max(8, math.ceil(skus * scale / 3)),
        bulk=max(4, math.ceil(skus * scale / 10)),
        hazard=max(2, math.ceil(skus * scale / 60)),
        cool=max(2, math.ceil(skus * scale / 80)),
        staging=4 if hub else 2,
        dock=6 if hub else 2,
    )


def make_bins(plan: BinPlan) -> list[dict[str, Any]]:
    """Bins of one site in walk order: dock, staging, forward pick (serpentine aisles),
    hazardous and cool cages, then bulk reserve."""
    bins: list[dict[str, Any]] = []

    def add(zone: str, code: str, kind: str, capacity: int | None, **attrs: Any) -> None:
        # Every row carries every column: an executemany takes its columns from the first row.
        bins.append(
            {"zone": zone, "code": code, "kind": kind, "capacity": capacity,
             "hazard_class": None, "temperature_class": None, **attrs}
        )  # fmt: skip

    for i in range(plan.dock):
        add("DOCK", f"DOCK-{i + 1:02d}", "dock", None, x=0, y=i * 4)
    for i in range(plan.staging):
        add("STG", f"STG-{i + 1:02d}", "staging", None, x=2, y=i * 4)
    _aisles(add, "PICK", "P", plan.pick, "pick", PICK_CAPACITY, levels=4, x0=6)
    _aisles(add, "HAZ", "H", plan.hazard, "storage", PICK_CAPACITY, levels=2, x0=200,
            hazard_class="3")  # fmt: skip
    _aisles(add, "COOL", "C", plan.cool, "storage", PICK_CAPACITY, levels=2, x0=220,
            temperature_class="cool")  # fmt: skip
    _aisles(add, "BULK", "R", plan.bulk, "bulk", BULK_CAPACITY, levels=5, x0=240)
    for sequence, b in enumerate(bins, start=1):
        b["walk_sequence"] = sequence
    return bins


def _aisles(
    add: Any, zone: str, prefix: str, count: int, kind: str, capacity: int, *, levels: int,
    x0: int, **attrs: Any,
) -> None:  # fmt: skip
    bays = 40
    for n in range(count):
        aisle, rest = divmod(n, bays * levels)
        walk_bay, level = divmod(rest, levels)
        # Serpentine: odd aisles are walked back down, so the sequence never doubles back.
        bay = walk_bay if aisle % 2 == 0 else bays - 1 - walk_bay
        add(
            zone,
            f"{prefix}-{aisle + 1:02d}-{bay + 1:02d}-{level + 1}",
            kind,
            capacity,
            x=x0 + aisle * 3,
            y=bay * 2,
            **attrs,
        )
