"""Returns (RMA): authorised against what was shipped to the customer, received into
inspection through the receiving path, then disposed of line by line
(docs/flows/returns.md)."""
