"""Inbound: purchase orders, advance shipping notices (ASNs) and receiving.

The modules here that import no database code are pure rules and parsers: GS1 scans
(`scan`), X12 856 ship notices (`edi_x12`), ASN CSV files (`asn_csv`) and the receiving
tolerance and purchase-order state rules (`tolerance`).

Only the modules that need nothing beyond the standard library and biip are re-exported here,
so importing the package never loads the database layer: `asn_csv` reads through
`stockpilot.importing` (which brings SQLAlchemy and the importers) and is imported by its own
path, ``from stockpilot.inbound.asn_csv import read_asn_csv``.
"""

from stockpilot.inbound.edi_x12 import Asn, AsnLine, X12Error, parse_856
from stockpilot.inbound.scan import (
    Scan,
    ScanError,
    gs1_check_digit,
    is_valid_gtin,
    is_valid_sscc,
    normalise_gtin,
    normalise_sscc,
    parse_scan,
    sku_for_gtin,
)
from stockpilot.inbound.tolerance import (
    DEFAULT_TOLERANCE_PERCENT,
    RECEIVABLE,
    TRANSITIONS,
    Approval,
    ApprovalRefused,
    LineQuantities,
    OverTolerance,
    POState,
    ReceiptDecision,
    check_transition,
    decide_receipt,
    derive_state,
    ensure_accepted,
    ensure_receivable,
    receipt_transition,
    supplier_tolerance,
)

__all__ = [
    "DEFAULT_TOLERANCE_PERCENT",
    "RECEIVABLE",
    "TRANSITIONS",
    "Approval",
    "ApprovalRefused",
    "Asn",
    "AsnLine",
    "LineQuantities",
    "OverTolerance",
    "POState",
    "ReceiptDecision",
    "Scan",
    "ScanError",
    "X12Error",
    "check_transition",
    "decide_receipt",
    "derive_state",
    "ensure_accepted",
    "ensure_receivable",
    "gs1_check_digit",
    "is_valid_gtin",
    "is_valid_sscc",
    "normalise_gtin",
    "normalise_sscc",
    "parse_856",
    "parse_scan",
    "receipt_transition",
    "sku_for_gtin",
    "supplier_tolerance",
]
