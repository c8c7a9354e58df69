"""stockpilot: inventory control for distributors."""

__version__ = "0.1.0"
