"""Inventory valuation on the stock ledger: FIFO cost layers, moving average and standard cost.

``rules`` decides (pure: layers consumed, averages, variances); ``posting`` values the moves of
a document inside ``ledger.posting.post_moves``, in bulk; ``reports`` reads value at a date and
cost of goods sold; ``verify`` reconciles layers, balances and the value ledger.
"""
