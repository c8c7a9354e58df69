"""Cycle counting: count programs by ABC class and by exception, blind count tasks through the
task queue, recounts and approvals above the site's tolerances, variances posted as
adjustments, count accuracy per site and operator (docs/flows/counting.md)."""
