"""A synthetic industrial distributor to explore, demonstrate and benchmark stockpilot.

``build_demo(db, skus=2000, sites=4, years=2, seed=42)`` loads it into an empty database;
the same seed always gives the same distributor.
"""

from __future__ import annotations

from stockpilot.demo.build import DemoResult, DemoSpec, Progress, build_demo, has_items
from stockpilot.demo.demand import PATTERNS

__all__ = ["PATTERNS", "DemoResult", "DemoSpec", "Progress", "build_demo", "has_items"]
