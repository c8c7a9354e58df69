"""Inbound: purchase orders, advance shipping notices (ASNs) and receiving.

The modules here that import no database code are pure rules and parsers: GS1 scans
(`scan`), X12 856 ship notices (`edi_x12`), ASN CSV files (`asn_csv`) and the receiving
tolerance and purchase-order state rules (`tolerance`).
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

__all__ = [
    "Asn",
    "AsnLine",
    "Scan",
    "ScanError",
    "X12Error",
    "gs1_check_digit",
    "is_valid_gtin",
    "is_valid_sscc",
    "normalise_gtin",
    "normalise_sscc",
    "parse_856",
    "parse_scan",
    "sku_for_gtin",
]
