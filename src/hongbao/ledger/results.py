"""Explicit result codes for every expected outcome of a ledger operation.

Expected failures are values, not exceptions: a batch returns one result per request, and the
caller decides. Codes are stable strings; messages are for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TransferResultCode(StrEnum):
    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    ID_ALREADY_FAILED = "id_already_failed"
    ID_INVALID = "id_invalid"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    CODE_INVALID = "code_invalid"
    REFERENCE_TOO_LONG = "reference_too_long"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    AMOUNT_EXCEEDS_LIMIT = "amount_exceeds_limit"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    DEBIT_ACCOUNT_REQUIRED = "debit_account_required"
    CREDIT_ACCOUNT_REQUIRED = "credit_account_required"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    CURRENCY_MISMATCH = "currency_mismatch"
    TIMEOUT_INVALID = "timeout_invalid"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    PENDING_ID_REQUIRED = "pending_id_required"
    PENDING_ID_MUST_BE_BLANK = "pending_id_must_be_blank"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS = "pending_transfer_has_different_accounts"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    OVERFLOW = "overflow"

    @property
    def succeeded(self) -> bool:
        """``ok`` and ``exists`` both mean the transfer is in the ledger exactly once."""
        return self in (TransferResultCode.OK, TransferResultCode.EXISTS)

    @property
    def sticky(self) -> bool:
        """Failures that depend on balances at the time; their ids stay failed."""
        return self in STICKY_FAILURES


STICKY_FAILURES = frozenset(
    {
        TransferResultCode.EXCEEDS_CREDITS,
        TransferResultCode.EXCEEDS_DEBITS,
        TransferResultCode.OVERFLOW,
    }
)

MESSAGES: dict[TransferResultCode, str] = {
    TransferResultCode.OK: "The transfer was applied.",
    TransferResultCode.EXISTS: "This transfer id was already applied with the same fields; "
    "nothing was moved again.",
    TransferResultCode.EXISTS_WITH_DIFFERENT_FIELDS: "This transfer id was already used for a "
    "different transfer; choose a new id.",
    TransferResultCode.ID_ALREADY_FAILED: "This transfer id failed before and stays failed; "
    "retry with a new id.",
    TransferResultCode.ID_INVALID: "The transfer id is empty, too long or has characters "
    "outside A-Z a-z 0-9 : . _ - /.",
    TransferResultCode.LINKED_EVENT_FAILED: "Another transfer in the same linked chain failed, "
    "so this one was not applied.",
    TransferResultCode.LINKED_EVENT_CHAIN_OPEN: "The last transfer of the batch is marked "
    "linked, so its chain never ends.",
    TransferResultCode.CODE_INVALID: "The reason code must be between 1 and 65535.",
    TransferResultCode.REFERENCE_TOO_LONG: "The reference is longer than allowed.",
    TransferResultCode.AMOUNT_MUST_BE_POSITIVE: "The amount must be greater than zero.",
    TransferResultCode.AMOUNT_EXCEEDS_LIMIT: "The amount is over the largest single transfer.",
    TransferResultCode.ACCOUNTS_MUST_BE_DIFFERENT: "A transfer cannot debit and credit the "
    "same account.",
    TransferResultCode.DEBIT_ACCOUNT_REQUIRED: "The debit account is missing.",
    TransferResultCode.CREDIT_ACCOUNT_REQUIRED: "The credit account is missing.",
    TransferResultCode.DEBIT_ACCOUNT_NOT_FOUND: "The debit account does not exist.",
    TransferResultCode.CREDIT_ACCOUNT_NOT_FOUND: "The credit account does not exist.",
    TransferResultCode.CURRENCY_MISMATCH: "Both accounts and the transfer must use the same "
    "currency.",
    TransferResultCode.TIMEOUT_INVALID: "The timeout is negative or longer than allowed.",
    TransferResultCode.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER: "Only a pending transfer can "
    "have a timeout.",
    TransferResultCode.PENDING_ID_REQUIRED: "Posting or voiding needs the pending transfer's id.",
    TransferResultCode.PENDING_ID_MUST_BE_BLANK: "Only posting or voiding refers to a pending "
    "transfer.",
    TransferResultCode.PENDING_ID_MUST_BE_DIFFERENT: "A transfer cannot post or void itself.",
    TransferResultCode.PENDING_TRANSFER_NOT_FOUND: "The pending transfer does not exist.",
    TransferResultCode.PENDING_TRANSFER_NOT_PENDING: "The referenced transfer is not a pending "
    "transfer.",
    TransferResultCode.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS: "The accounts differ from the "
    "pending transfer's.",
    TransferResultCode.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT: "A void must release the whole "
    "pending amount.",
    TransferResultCode.PENDING_TRANSFER_ALREADY_POSTED: "The pending transfer was already posted.",
    TransferResultCode.PENDING_TRANSFER_ALREADY_VOIDED: "The pending transfer was already voided.",
    TransferResultCode.PENDING_TRANSFER_EXPIRED: "The pending transfer reached its timeout and "
    "its money was released.",
    TransferResultCode.EXCEEDS_PENDING_TRANSFER_AMOUNT: "The amount to post is more than the "
    "pending transfer holds.",
    TransferResultCode.EXCEEDS_CREDITS: "The debit account does not have enough money.",
    TransferResultCode.EXCEEDS_DEBITS: "The credit account cannot receive more than was taken "
    "from it.",
    TransferResultCode.OVERFLOW: "An account total would exceed the ledger's limit.",
}


@dataclass(frozen=True, slots=True)
class TransferResult:
    id: str
    code: TransferResultCode

    @property
    def succeeded(self) -> bool:
        return self.code.succeeded

    @property
    def message(self) -> str:
        return MESSAGES[self.code]


class AccountResultCode(StrEnum):
    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    ID_INVALID = "id_invalid"
    CURRENCY_INVALID = "currency_invalid"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    REFERENCE_TOO_LONG = "reference_too_long"

    @property
    def succeeded(self) -> bool:
        return self in (AccountResultCode.OK, AccountResultCode.EXISTS)


@dataclass(frozen=True, slots=True)
class AccountResult:
    id: str
    code: AccountResultCode

    @property
    def succeeded(self) -> bool:
        return self.code.succeeded
