"""Multi-level distribution (多级分销, R-F5): budget trees funded by enterprises, packets sent
from them, and refunds cleared back level by level (逐层逆向清算).

``model`` holds the records, ``errors`` the error codes, ``service`` the budget operations
(each its own transaction), ``unwinding`` the refund path through the tree inside a caller's
transaction.
Only ``model`` is imported here: ``hongbao.funding.sources`` needs it, and the service needs
identity, so importing the service here would make a cycle.
"""

from hongbao.distribution.model import (
    MAX_LEVELS,
    Budget,
    BudgetState,
    DistributionError,
    budget_account_id,
)

__all__ = ["MAX_LEVELS", "Budget", "BudgetState", "DistributionError", "budget_account_id"]
