"""Adjustments with reason codes: posted at once within the site's thresholds, otherwise
held for the approval of someone other than the requester (docs/flows/adjustments.md)."""
