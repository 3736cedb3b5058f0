"""Funding: where a user's money comes from — the balance (零钱), 零钱通, debit, credit and
foreign cards, and distribution budgets — and the ledger account each one maps to."""
