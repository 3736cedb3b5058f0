"""Bodies of the operator endpoints: the R-M2 report and bearer tokens."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from hongbao.entrypoints.http.auth.tokens import (
    MAX_LIFETIME_SECONDS,
    MAX_TOKEN_LENGTH,
    TOKEN_PATTERN,
    Principal,
    Role,
)
from hongbao.entrypoints.http.codes import AuthCode
from hongbao.entrypoints.http.schemas import NO_CONTROL, WHOLE, Body, Id, iso_time
from hongbao.entrypoints.http.schemas.variants import (
    Absent,
    Required,
    Variant,
    VariantBody,
    Variants,
)
from hongbao.ledger.verification import VerificationReport
from hongbao.packets.verification import PacketReport
from hongbao.refunds.verification import RefundReport


class ProblemView(Body):
    check: str
    subject: str  # the offending row: an account, transfer, packet or refund id
    detail: str


class CurrencyView(Body):
    currency: str
    debits_posted: int  # minor units
    credits_posted: int
    debits_pending: int
    credits_pending: int


class LedgerReportView(Body):
    ok: bool
    accounts: int
    transfers: int
    postings: int
    open_pending: int
    root_digest: str  # over every chain head: record it elsewhere to detect a rewrite
    currencies: list[CurrencyView]
    violation_count: int
    violations: list[ProblemView]  # the first ones; violation_count says how many in all

    @classmethod
    def of(cls, report: VerificationReport) -> LedgerReportView:
        return cls(
            ok=report.ok,
            accounts=report.accounts,
            transfers=report.transfers,
            postings=report.postings,
            open_pending=report.open_pending,
            root_digest=report.root_digest,
            currencies=[
                CurrencyView(
                    currency=code,
                    debits_posted=t.debits_posted,
                    credits_posted=t.credits_posted,
                    debits_pending=t.debits_pending,
                    credits_pending=t.credits_pending,
                )
                for code, t in sorted(report.currencies.items())
            ],
            violation_count=report.violation_count,
            violations=[
                ProblemView(check=v.check, subject=v.subject, detail=v.detail)
                for v in report.violations
            ],
        )


class PacketReportView(Body):
    ok: bool
    packets: int
    shares: int
    open_card_holds: int
    problem_count: int
    problems: list[ProblemView]

    @classmethod
    def of(cls, report: PacketReport) -> PacketReportView:
        return cls(
            ok=report.ok,
            packets=report.packets,
            shares=report.shares,
            open_card_holds=report.open_card_holds,
            problem_count=report.problem_count,
            problems=[
                ProblemView(check=p.check, subject=p.packet_id, detail=p.detail)
                for p in report.problems
            ],
        )


class RefundReportView(Body):
    ok: bool
    refunds: int
    in_flight: int
    problem_count: int
    problems: list[ProblemView]

    @classmethod
    def of(cls, report: RefundReport) -> RefundReportView:
        return cls(
            ok=report.ok,
            refunds=report.refunds,
            in_flight=report.in_flight,
            problem_count=report.problem_count,
            problems=[
                ProblemView(check=p.check, subject=p.refund_id, detail=p.detail)
                for p in report.problems
            ],
        )


class VerifyView(Body):
    """Every invariant of R-M2, read on one snapshot: the ledger, packets and refunds."""

    ok: bool
    ledger: LedgerReportView
    packets: PacketReportView
    refunds: RefundReportView


# A user token names the user's device (id and SIM); an operator token names none.
TOKEN_VARIANTS = Variants(
    "role",
    (
        Variant(
            "user",
            (Role.USER,),
            (
                Required("device_id", AuthCode.DEVICE_BINDING),
                Required("sim_id", AuthCode.DEVICE_BINDING),
            ),
        ),
        Variant(
            "operator",
            (Role.OPERATOR,),
            (
                Absent("device_id", AuthCode.DEVICE_BINDING),
                Absent("sim_id", AuthCode.DEVICE_BINDING),
            ),
        ),
    ),
)


class TokenBody(Body, VariantBody):
    variants: ClassVar[Variants] = TOKEN_VARIANTS
    subject: Id
    role: Role = Role.USER
    device_id: Id | None = None  # a user token is bound to one of the user's devices
    sim_id: Id | None = None
    lifetime_seconds: Annotated[int, Field(ge=1, le=MAX_LIFETIME_SECONDS, strict=True), WHOLE] = (
        24 * 3600
    )


class TokenView(Body):
    token: str
    token_id: str
    subject: str
    role: Role
    device_id: str | None
    sim_id: str | None
    expires_at_us: int
    expires_at: str

    @classmethod
    def of(cls, token: str, who: Principal) -> TokenView:
        return cls(
            token=token,
            token_id=who.token_id,
            subject=who.subject,
            role=who.role,
            device_id=who.device_id,
            sim_id=who.sim_id,
            expires_at_us=who.expires_at_us,
            expires_at=iso_time(who.expires_at_us),
        )


class RevokeBody(Body):
    # The document gives a token's form; the server answers a malformed one with its own code
    # (auth.revoked_token_invalid), one of that form that is not ours with a 404.
    token: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_TOKEN_LENGTH,
            pattern=NO_CONTROL,
            json_schema_extra={"pattern": TOKEN_PATTERN},
        ),
    ]


class RevokedView(Body):
    token_id: str
    subject: str
    revoked_at_us: int
    revoked_by: str
