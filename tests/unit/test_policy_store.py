"""The policy store: hot reload of a changed file, the last good policy kept on a bad one, and
a shadow policy evaluated beside the active one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hongbao.funding.service import open_balance
from hongbao.policy.document import DEFAULT_POLICY, PolicyError
from hongbao.policy.store import PolicyStore


def shipped() -> str:
    from importlib import resources  # noqa: PLC0415

    return resources.files("hongbao.policy").joinpath(DEFAULT_POLICY).read_text()


def write(path: Path, text: str, *, tick: int) -> None:
    path.write_text(text)
    # A distinct modification time per write, whatever the file system's resolution.
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))


def test_a_changed_policy_file_is_picked_up_on_the_next_decision(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    write(path, shipped(), tick=1)
    store = PolicyStore.open(path)
    first = store.active()
    assert first.recall.security.face_above_minor == 200_00
    write(path, shipped().replace('face_above = "200.00"', 'face_above = "300.00"'), tick=2)
    second = store.active()
    assert second.recall.security.face_above_minor == 300_00
    assert second.version != first.version


def test_a_broken_rewrite_keeps_the_last_good_policy_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    write(path, shipped(), tick=1)
    store = PolicyStore.open(path)
    good = store.active()
    write(path, shipped().replace('face_above = "200.00"', "face_above = 200.0"), tick=2)
    assert store.active() == good
    assert store.last_error is not None
    assert store.last_error.code == "policy.amount_not_text"
    write(path, shipped(), tick=3)
    assert store.active().version == good.version
    assert store.last_error is None


def test_a_policy_that_does_not_validate_at_start_up_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    write(path, "name = 'broken'\n", tick=1)
    with pytest.raises(PolicyError):
        PolicyStore.open(path)


def test_a_shadow_policy_is_loaded_beside_the_active_one(tmp_path: Path) -> None:
    active, shadow = tmp_path / "active.toml", tmp_path / "shadow.toml"
    write(active, shipped(), tick=1)
    write(shadow, shipped().replace('name = "default"', 'name = "stricter"'), tick=1)
    store = PolicyStore.open(active, shadow)
    assert store.active().name == "default"
    shadowed = store.shadow()
    assert shadowed is not None
    assert shadowed.name == "stricter"
    assert PolicyStore.open(active).shadow() is None


def test_packet_limits_follow_a_changed_policy_file_on_the_next_send(tmp_path: Path) -> None:
    """An operator lowers the personal packet's largest share: the next send is held to it,
    with no restart, and a send is checked against one version throughout."""
    from hongbao.identity.service import IdentityService  # noqa: PLC0415
    from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType  # noqa: PLC0415
    from hongbao.identity.verification import SimulatedProvider  # noqa: PLC0415
    from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest  # noqa: PLC0415
    from hongbao.ledger.service import Ledger  # noqa: PLC0415
    from hongbao.money import Money  # noqa: PLC0415
    from hongbao.packets.model import PacketType  # noqa: PLC0415
    from hongbao.packets.service import PacketService, SendPacket  # noqa: PLC0415
    from hongbao.packets.split import PacketError  # noqa: PLC0415
    from hongbao.testing import InMemoryDatabase, ManualClock  # noqa: PLC0415

    path = tmp_path / "policy.toml"
    write(path, shipped(), tick=1)
    database, clock = InMemoryDatabase(), ManualClock(1_796_000_000_000_000)
    identity = IdentityService(
        database, clock, SimulatedProvider(b"s" * 32), on_register=(open_balance,)
    )
    for name in ("alice", "bob"):
        identity.register_user(
            User(
                name,
                name,
                AccountTier.CLASS_I,
                UserType.NORMAL,
                clock.now_us(),
                RealNameStatus.VERIFIED,
            )
        )
    ledger = Ledger(database, clock)
    ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
    ledger.transfer(TransferRequest("top-up", 1, 500_00, "bank", "user:alice:balance", "CNY"))
    packets = PacketService(database, clock, PolicyStore.open(path))

    def personal(packet_id: str) -> SendPacket:
        return SendPacket(
            packet_id,
            PacketType.PERSONAL,
            "alice",
            Money.of(150_00, "CNY"),
            1,
            "alice-balance",
            recipient_id="bob",
        )

    packets.send(personal("p-1"))
    lowered = shipped().replace(
        '[packets.types.personal]\nmax_shares = 1\nmax_share = "200.00"\nmax_total = "200.00"',
        '[packets.types.personal]\nmax_shares = 1\nmax_share = "100.00"\nmax_total = "100.00"',
    )
    assert lowered != shipped()
    write(path, lowered, tick=2)
    with pytest.raises(PacketError) as refused:
        packets.send(personal("p-2"))
    assert refused.value.code == "packets.amount_over_limit"
