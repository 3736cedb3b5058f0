"""How the PostgreSQL adapter reports a lost server: a hongbao error, and no half-done work."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.ledger.results import TransferResultCode
from hongbao.ledger.service import Ledger
from hongbao.platform.clock import SystemClock
from hongbao.platform.errors import StorageError
from hongbao.storage.factory import open_database
from hongbao.storage.postgres import APPLICATION_NAME
from tests.conftest import postgres_server_url


@pytest.mark.postgres
def test_a_connection_killed_under_the_ledger_is_storage_unavailable_and_a_retry_is_safe(
    postgres_url: str,
) -> None:
    database = open_database(postgres_url, pool_size=1)
    ledger = Ledger(database, SystemClock())
    ledger.create_accounts(
        [
            NewAccount("card", AccountKind.DEBIT_CARD, "CNY"),
            NewAccount("alice", AccountKind.USER_BALANCE, "CNY"),
        ]
    )

    # The pool's one connection, by its backend pid: other hongbao processes on this server
    # (a benchmark, another test run) keep theirs.
    def own_pid(uow: Any) -> int:
        pid: int = uow._dialect.cursor().execute("SELECT pg_backend_pid()").fetchone()[0]
        return pid

    backend_pid = database.read(own_pid)
    with psycopg.connect(postgres_server_url(), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid = %s",
            (APPLICATION_NAME, backend_pid),
        ).fetchall()
    assert killed == [(True,)], "the pool's one connection was terminated"
    request = TransferRequest("fund", 1, 500, "card", "alice", "CNY")
    with pytest.raises(StorageError) as lost:
        ledger.transfer(request)
    assert lost.value.code == "storage.unavailable"
    result = ledger.transfer(request)  # the pool replaces the broken connection
    assert result.code is TransferResultCode.OK
    assert ledger.transfer(request).code is TransferResultCode.EXISTS
    assert ledger.account("alice").credit_balance == 500
    database.close()
