"""The double-entry ledger: accounts, immutable transfers, two-phase pending transfers.

Semantics follow TigerBeetle's: a transfer debits one account and credits another of the same
currency, carries a client-chosen id (idempotency) and a code saying why; a pending transfer
reserves money until it is posted (fully or partly), voided, or expires at its timeout.
"""
