"""``hongbao refunds show|list`` on a real SQLite file: where a refund's money is and why."""

from __future__ import annotations

from typer.testing import CliRunner

from hongbao.bootstrap import open_services
from hongbao.entrypoints.cli.main import app
from hongbao.entrypoints.population import load_population
from hongbao.identity.users import UserStatus
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import ManualClock, SystemClock
from hongbao.recall.calendar import local_day
from hongbao.refunds.routes import RefundPlan, plan_refund
from hongbao.refunds.settlement import start_refund

runner = CliRunner()
HOUR_US = 3_600_000_000


def run_cli(url: str, *arguments: str) -> tuple[int, str]:
    result = runner.invoke(
        app, [*arguments, "--database-url", url], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    return result.exit_code, result.output


def test_a_debit_card_refund_is_shown_in_clearing_with_its_arrival_and_listed(
    sqlite_url: str,
) -> None:
    # 10:00 Beijing time: never in a bank's nightly maintenance window, whenever the test runs.
    day_start, _ = local_day(SystemClock().now_us(), "Asia/Shanghai")
    services = open_services(sqlite_url, clock=ManualClock(day_start + 10 * HOUR_US))
    load_population(services.identity, services.funding, services.social)
    services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    services.ledger.transfer(
        TransferRequest("top-up", 1, 100_00, "bank", "user:li-wei:balance", "CNY")
    )
    services.packets.send(
        SendPacket(
            "r-1",
            PacketType.GROUP_NORMAL,
            "li-wei",
            Money.of(30_00, "CNY"),
            3,
            "li-wei-balance",
            group_id="xinghe-team",
        )
    )
    now = services.clock.now_us()
    plan = plan_refund(
        services.funding.funding_source("li-wei-icbc"),
        UserStatus.NORMAL,
        Money.of(30_00, "CNY"),
        charged_at_us=now,
        now_us=now,
    )
    assert isinstance(plan, RefundPlan)
    services.database.transact(
        lambda uow: start_refund(
            uow,
            refund_id="refund-1",
            packet_id="r-1",
            owner_id="li-wei",
            from_account_id="escrow:r-1",
            destination_account_id="card:li-wei-icbc",
            plan=plan,
            now_us=now,
        )
    )
    services.close()
    code, shown = run_cli(sqlite_url, "refunds", "show", "refund-1")
    assert code == 0, shown
    assert "in refund clearing, on its way" in shown
    assert "debit_card" in shown
    code, listed = run_cli(sqlite_url, "refunds", "list", "--state", "in_clearing")
    assert "refund-1" in listed
    assert "path of the money" in shown
    assert "refund:refund-1:out" in shown  # escrow to clearing, the first hop
    code, mine = run_cli(sqlite_url, "refunds", "list", "--owner", "li-wei")
    assert (code, "refund-1" in mine, "in_clearing" in mine) == (0, True, True)
    code, refused = run_cli(sqlite_url, "refunds", "credit", "refund-1", "--operator", "ops-1")
    assert (code, "refunds.not_failed" in refused) == (2, True)
    code, missing = run_cli(sqlite_url, "refunds", "show", "nope")
    assert (code, "refunds.unknown_refund" in missing) == (2, True)
