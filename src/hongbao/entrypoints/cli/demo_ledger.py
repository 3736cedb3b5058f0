"""``hongbao demo``: a short, real tour of the ledger on the configured database.

Every step goes through the same service an integrator uses; nothing is simulated. Each run
uses ids of its own (``demo-<run>-…``) so the demo can be run again on the same database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from hongbao.entrypoints.cli.render import money_text
from hongbao.ledger.model import AccountKind, NewAccount, TransferKind, TransferRequest
from hongbao.ledger.results import TransferResult
from hongbao.ledger.service import Ledger

CNY = "CNY"
PENDING_DEMO_TIMEOUT_SECONDS = 1
ACCOUNT_KINDS = {
    "alice": AccountKind.USER_BALANCE,
    "bob": AccountKind.USER_BALANCE,
    "escrow": AccountKind.PACKET_ESCROW,
    "alice-debit-card": AccountKind.DEBIT_CARD,
    "carol-credit-card": AccountKind.CREDIT_CARD,
    "dave-debit-card": AccountKind.DEBIT_CARD,
    "erin-debit-card": AccountKind.DEBIT_CARD,
}


class Codes:
    """Reason codes the demo's transfers carry (the packet issues define the real catalogue)."""

    TOP_UP = 1
    SEND_PACKET = 2
    CLAIM_SHARE = 3
    CARD_AUTHORIZATION = 4
    CAPTURE = 5
    RECALL_VOID = 6


@dataclass(frozen=True)
class DemoAccounts:
    run: str

    def id(self, name: str) -> str:
        return f"demo-{self.run}-{name}"


def run_demo(ledger: Ledger, console: Console) -> bool:
    """Run the tour; returns True when the ledger verifies afterwards."""
    names = DemoAccounts(run=str(ledger.clock.now_us()))
    console.print(f"[bold]hongbao demo[/] on {ledger.database.url} (run {names.run})\n")
    _open_accounts(ledger, names)
    steps: list[tuple[str, TransferResult]] = []

    def step(title: str, request: TransferRequest) -> None:
        steps.append((title, ledger.transfer(request)))

    def posted(name: str, code: int, amount: int, debit: str, credit: str) -> TransferRequest:
        return TransferRequest(names.id(name), code, amount, names.id(debit), names.id(credit), CNY)

    def pending(name: str, amount: int, debit: str, timeout: int) -> TransferRequest:
        return TransferRequest(
            names.id(name),
            Codes.CARD_AUTHORIZATION,
            amount,
            names.id(debit),
            names.id("escrow"),
            CNY,
            kind=TransferKind.PENDING,
            timeout_seconds=timeout,
        )

    def resolve(
        name: str, kind: TransferKind, pending_name: str, amount: int | None
    ) -> TransferRequest:
        code = Codes.CAPTURE if kind is TransferKind.POST_PENDING else Codes.RECALL_VOID
        return TransferRequest(
            names.id(name), code, amount, kind=kind, pending_id=names.id(pending_name)
        )

    post, void = TransferKind.POST_PENDING, TransferKind.VOID_PENDING
    top_up = posted("top-up", Codes.TOP_UP, 500_00, "alice-debit-card", "alice")
    step("alice tops up 500.00 from her debit card", top_up)
    step("the same top-up, retried with the same id", top_up)
    step(
        "alice sends a 100.00 packet", posted("send", Codes.SEND_PACKET, 100_00, "alice", "escrow")
    )
    step("bob claims 30.00 of it", posted("claim", Codes.CLAIM_SHARE, 30_00, "escrow", "bob"))
    step(
        "bob tries to send 999.00", posted("overdraft", Codes.SEND_PACKET, 999_00, "bob", "escrow")
    )
    step("carol pays 50.00 by credit card (hold)", pending("hold", 50_00, "carol-credit-card", 900))
    step("capture the 20.00 claimed, release 30.00", resolve("capture", post, "hold", 20_00))
    step("dave pays 80.00 by debit card (hold)", pending("hold-2", 80_00, "dave-debit-card", 900))
    step("dave recalls in the window: void", resolve("recall", void, "hold-2", None))
    step("the recall, retried with a new id", resolve("recall-again", void, "hold-2", None))
    step("erin pays 10.00 by card, 1 s timeout", pending("hold-3", 10_00, "erin-debit-card", 1))
    time.sleep(PENDING_DEMO_TIMEOUT_SECONDS + 0.1)
    expired = ledger.expire_due()
    step("capture erin's hold after its timeout", resolve("capture-3", post, "hold-3", None))

    _print_steps(console, steps, expired)
    _print_balances(console, ledger, names)
    report = ledger.verify()
    verdict = "[bold green]OK[/]" if report.ok else "[bold red]FAILED[/]"
    console.print(
        f"\nledger verify: {verdict} — {report.accounts} accounts, {report.transfers} transfers, "
        f"{report.postings} journal postings, {report.violation_count} violations"
    )
    console.print(f"ledger root digest: {report.root_digest}")
    return report.ok


def _open_accounts(ledger: Ledger, names: DemoAccounts) -> None:
    results = ledger.create_accounts(
        [NewAccount(names.id(name), kind, CNY) for name, kind in ACCOUNT_KINDS.items()]
    )
    failed = [result for result in results if not result.succeeded]
    if failed:
        raise RuntimeError(f"demo accounts could not be opened: {failed}")


def _print_steps(console: Console, steps: list[tuple[str, TransferResult]], expired: int) -> None:
    table = Table(title="transfers")
    table.add_column("step")
    table.add_column("result")
    for title, result in steps:
        style = "green" if result.succeeded else "yellow"
        table.add_row(title, f"[{style}]{result.code.value}[/]")
    console.print(table)
    console.print(f"expiry sweep released {expired} pending transfer(s) past their timeout\n")


def _print_balances(console: Console, ledger: Ledger, names: DemoAccounts) -> None:
    table = Table(title="balances (CNY)")
    for column in ("account", "debits", "credits", "pending", "balance"):
        table.add_column(column, justify="left" if column == "account" else "right")
    accounts = ledger.accounts(
        [
            names.id(n)
            for n in (
                "alice",
                "bob",
                "escrow",
                "alice-debit-card",
                "carol-credit-card",
                "dave-debit-card",
                "erin-debit-card",
            )
        ]
    )
    for account in accounts.values():
        table.add_row(
            account.id.removeprefix(f"demo-{names.run}-"),
            money_text(account.debits_posted, account.currency),
            money_text(account.credits_posted, account.currency),
            money_text(account.debits_pending + account.credits_pending, account.currency),
            money_text(account.credit_balance, account.currency),
        )
    console.print(table)
