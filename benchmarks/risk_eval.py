"""Risk evaluation: a seeded synthetic population through the real services, scored against
its planted labels (R-K3, R-K6).

Run from the project root::

    .venv/bin/python benchmarks/risk_eval.py --users 200 --days 10 --seed 7
    .venv/bin/python benchmarks/risk_eval.py --database-url postgresql://127.0.0.1/risk_bench

Ordinary users send group packets in their group of friends and recall some of them hours
later (amounts and delays drawn around each user's own habit); some of their packets are
claimed first. Planted among them: velocity abusers (seven recalls in an hour), a ring of
``--ring`` accounts sharing one SIM and cycling money (one sends, the next claims, the sender
recalls within minutes), structurers (four recalls a day just under the structuring
amount) and travellers (a recall in Shanghai, the next five minutes later in Beijing; half of
them on the travel whitelist, which the rules must respect). Everything runs through
``services_for`` on a fresh SQLite file (or the PostgreSQL
database given, whose schema is wiped: its name must contain ``bench``) with a ManualClock;
the outbox is drained by the embedded worker after each simulated hour, as the analysis lags.

The policy is the default one except that class I asks for no SMS code and the structuring
amount is the face-verification threshold (the amount a structurer stays under).

It prints, per detector (the analysis' flags, and the synchronous rules' face checks and
device locks), precision and recall against the planted labels, the
level distribution of ordinary users' recalls, and the CPU per recall in the money path with
the risk rules against a ``PassingAssessor`` (``time.process_time`` over the same recalls on
two fresh databases).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg

from hongbao.bootstrap import Services, services_for
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.identity.devices import Device, DeviceFingerprint, FormFactor, Platform, VendorSkin
from hongbao.identity.exemptions import Exemption, ExemptionKind, SubjectKind
from hongbao.identity.users import AccountTier, RealNameStatus, User, UserType
from hongbao.ledger.model import AccountKind, NewAccount, TransferRequest
from hongbao.money import Money
from hongbao.packets.model import PacketType
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import ManualClock
from hongbao.policy.document import default_policy
from hongbao.policy.store import PolicyStore
from hongbao.recall.service import RecallCommand, RecallService
from hongbao.risk.assessors import PassingAssessor
from hongbao.risk.geo import parse_place
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.storage import migrate
from hongbao.storage.factory import open_database
from hongbao.storage.urls import parse_url

HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
SHANGHAI = "31.2304,121.4737"
BEIJING = "39.9042,116.4074"  # about 1,070 km from Shanghai
START_US = 1_796_000_000_000_000


def bench_policy() -> PolicyStore:
    base = default_policy()
    tier = base.recall.tiers.class_i.model_copy(update={"verification": ()})
    tiers = base.recall.tiers.model_copy(update={"class_i": tier})
    recall = base.recall.model_copy(update={"tiers": tiers})
    face = base.recall.security.face_above_minor
    risk = base.risk.model_copy(update={"structuring_amount_minor": face})
    return PolicyStore.fixed(
        base.model_copy(update={"recall": recall, "risk": risk, "version": "risk-eval@1"})
    )


class World:
    def __init__(self, url: str, *, passing: bool = False) -> None:
        self.clock = ManualClock(START_US)
        self.store = bench_policy()
        self.services: Services = services_for(open_database(url), self.clock, policies=self.store)
        if passing:
            self.services.recalls = RecallService(
                self.services.database,
                self.clock,
                self.services.packets,
                self.store,
                risk=PassingAssessor(),
            )
        self.worker = EmbeddedWorker(self.services)
        self.services.ledger.create_accounts([NewAccount("bank", AccountKind.DEBIT_CARD, "CNY")])
        self.sent = 0
        self.levels: dict[str, Counter[int]] = {}
        self.reasons: dict[str, set[str]] = {}
        self.cpu = 0.0
        self.recalls = 0

    def user(self, user_id: str, sim: str | None = None) -> None:
        since = START_US - 30 * 24 * HOUR_US
        self.services.identity.register_user(
            User(
                user_id,
                user_id,
                AccountTier.CLASS_I,
                UserType.NORMAL,
                since,
                RealNameStatus.VERIFIED,
            )
        )
        self.services.identity.register_device(
            Device(
                f"{user_id}-phone",
                user_id,
                sim or f"{user_id}-sim",
                Platform.ANDROID,
                "14",
                VendorSkin.MIUI,
                "Xiaomi 13",
                FormFactor.PHONE,
                since,
            )
        )
        self.services.ledger.transfer(
            TransferRequest(
                f"top-{user_id}", 1, 1_000_000_00, "bank", f"user:{user_id}:balance", "CNY"
            )
        )

    def group(self, group_id: str, users: list[str]) -> None:
        self.services.social.create_group(
            Group(group_id, group_id, GroupType.WORK, users[0], START_US - HOUR_US)
        )
        for user in users[1:]:
            self.services.social.add_member(GroupMember(group_id, user, START_US - HOUR_US))

    def send(self, user: str, group: str, amount_minor: int, sim: str | None = None) -> str:
        self.sent += 1
        packet_id = f"p-{self.sent}"
        self.services.packets.send(
            SendPacket(
                packet_id,
                PacketType.GROUP_NORMAL,
                user,
                Money.of(amount_minor, "CNY"),
                3,
                f"{user}-balance",
                group_id=group,
                device=DeviceFingerprint(f"{user}-phone", sim or f"{user}-sim"),
            )
        )
        return packet_id

    def recall(
        self, user: str, packet_id: str, sim: str | None = None, place: str | None = None
    ) -> int:
        command = RecallCommand(
            f"r-{packet_id}",
            packet_id,
            user,
            DeviceFingerprint(f"{user}-phone", sim or f"{user}-sim"),
            place=parse_place(place),
        )
        started = time.process_time()
        outcome = self.services.recalls.recall(command)
        self.cpu += time.process_time() - started
        self.recalls += 1
        level = self._level(outcome.decision.decision_id)
        self.levels.setdefault(user, Counter())[level] += 1
        self.reasons.setdefault(user, set()).update(r.value for r in outcome.decision.reasons)
        return level

    def _level(self, decision_id: str) -> int:
        record = self.services.database.read(lambda uow: uow.recalls.decisions.get(decision_id))
        return 0 if record is None else int(json.loads(record.facts)["risk"]["level"])

    def advance(self, microseconds: int) -> None:
        self.clock.advance(microseconds=microseconds)
        self.worker.drain()


def run(
    url: str, args: argparse.Namespace, *, passing: bool = False
) -> tuple[World, dict[str, set[str]]]:
    rng = random.Random(args.seed)
    world = World(url, passing=passing)
    ordinary = [f"u{n:04d}" for n in range(args.users)]
    labels: dict[str, set[str]] = {
        "velocity": set(),
        "ring": set(),
        "structuring": set(),
        "travel": set(),
    }
    for user in ordinary:
        world.user(user)
    groups = [ordinary[i : i + 8] for i in range(0, len(ordinary), 8)]
    for n, members in enumerate(groups):
        world.group(f"g{n}", members)
    velocity = [f"v{n}" for n in range(args.velocity)]
    structurers = [f"s{n}" for n in range(args.structurers)]
    ring = [f"ring{n}" for n in range(args.ring)]
    travellers = [f"t{n}" for n in range(args.travellers)]
    whitelisted = set(travellers[: len(travellers) // 2])
    for user in velocity + structurers + travellers:
        world.user(user)
    for user in whitelisted:
        world.services.identity.add_exemption(
            Exemption(
                f"trip-{user}",
                ExemptionKind.TRAVEL_WHITELIST,
                SubjectKind.USER,
                user,
                "business trip",
                START_US - HOUR_US,
                START_US + (args.days + 1) * 24 * HOUR_US,
            )
        )
    for user in ring:
        world.user(user, sim="ring-sim")
    world.group("gv", velocity + structurers + travellers)
    world.group("gring", ring)
    labels["velocity"].update(velocity)
    labels["ring"].update(ring)
    labels["structuring"].update(structurers)
    labels["travel"].update(set(travellers) - whitelisted)
    habit = {user: (rng.randint(10_00, 150_00), rng.randint(2, 20)) for user in ordinary}
    face = world.store.active().recall.security.face_above_minor
    for day in range(args.days):
        pending: list[tuple[int, str, str, str | None]] = []
        for user in ordinary:
            if rng.random() < 0.5:
                continue
            mean, delay_hours = habit[user]
            amount = max(1_00, min(face, int(rng.gauss(mean, mean / 4))))
            at = rng.randint(0, 12) * HOUR_US
            pending.append((at, "send", user, None))
            pending.append(
                (
                    at + max(1, int(rng.gauss(delay_hours, 2))) * HOUR_US // 2,
                    "recall",
                    user,
                    str(amount),
                )
            )
        pending.sort()
        hour = 0
        sent: dict[str, list[str]] = {}
        for at, kind, user, _extra in pending:
            while hour * HOUR_US < at:
                world.advance(HOUR_US)
                hour += 1
            if kind == "send":
                mean, _ = habit[user]
                amount = max(1_00, min(face, int(rng.gauss(mean, mean / 4))))
                sent.setdefault(user, []).append(
                    world.send(user, f"g{ordinary.index(user) // 8}", amount)
                )
            elif sent.get(user):
                world.recall(user, sent[user].pop(0))
        planted = (velocity, structurers, travellers, ring)
        _abusers_act(world, rng, planted, face, first_evening=day == 0)
        world.advance(max(1, 24 - hour) * HOUR_US)
    world.worker.drain()
    return world, labels


def _abusers_act(
    world: World,
    rng: random.Random,
    planted: tuple[list[str], ...],
    face: int,
    *,
    first_evening: bool,
) -> None:
    """The planted abusers' evening: velocity, structuring, travel and the ring's cycles."""
    velocity, structurers, travellers, ring = planted
    for user in velocity:
        for _ in range(7):
            world.recall(user, world.send(user, "gv", rng.randint(5_00, 50_00)))
            world.clock.advance(microseconds=5 * MINUTE_US)
    for user in structurers:
        for _ in range(4):
            world.recall(user, world.send(user, "gv", face - rng.randint(1_00, 15_00)))
            world.clock.advance(microseconds=20 * MINUTE_US)
    # Once: a traveller off the whitelist has a locked device from then on.
    for user in travellers if first_evening else ():
        world.recall(user, world.send(user, "gv", 20_00), place=SHANGHAI)
        world.clock.advance(microseconds=5 * MINUTE_US)
        world.recall(user, world.send(user, "gv", 20_00), place=BEIJING)
    for n, user in enumerate(ring):
        packet = world.send(user, "gring", rng.randint(100_00, 190_00), sim="ring-sim")
        world.services.packets.claim(packet, ring[(n + 1) % len(ring)])
        world.clock.advance(microseconds=3 * MINUTE_US)
        world.recall(user, packet, sim="ring-sim")


def score(world: World, labels: dict[str, set[str]]) -> None:
    flags = world.services.database.read(lambda uow: uow.risk.flags.page(None, limit=100_000))
    by_detector: dict[str, set[str]] = {}
    for flag in flags:
        by_detector.setdefault(flag.detector.value, set()).add(flag.user_id)
    planted = set().union(*labels.values())
    # The synchronous rules: who was asked for a face, whose device was locked.
    for user, reasons in world.reasons.items():
        if "risk.challenge" in reasons:
            by_detector.setdefault("attempts (face)", set()).add(user)
        if "risk.lock" in reasons:
            by_detector.setdefault("travel (lock)", set()).add(user)
    labels = {**labels, "attempts (face)": labels["velocity"], "travel (lock)": labels["travel"]}
    print("| detector | flagged | precision (planted abusers) | recall (its label) |")
    print("|---|---:|---:|---:|")
    detectors = ("behaviour", "ring", "cash_out", "structuring", "rapid_cycle")
    for detector in (*detectors, "attempts (face)", "travel (lock)"):
        flagged = by_detector.get(detector, set())
        label = labels.get(detector, labels["ring"] if detector == "rapid_cycle" else set())
        precision = f"{len(flagged & planted) / len(flagged):.0%}" if flagged else "-"
        recall = f"{len(flagged & label) / len(label):.0%}" if label else "-"
        print(f"| {detector} | {len(flagged)} | {precision} | {recall} |")
    ordinary = Counter[int]()
    for user, levels in world.levels.items():
        if user.startswith("u"):
            ordinary.update(levels)
    total = sum(ordinary.values())
    print()
    print(
        f"ordinary recalls: {total}; by level: "
        + ", ".join(f"{lvl}: {ordinary[lvl]}" for lvl in range(5))
    )
    high = sum(ordinary[lvl] for lvl in range(2, 5))
    print(f"ordinary recalls at level >= 2: {high} ({high / max(total, 1):.2%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--velocity", type=int, default=3)
    parser.add_argument("--structurers", type=int, default=3)
    parser.add_argument("--ring", type=int, default=8)
    parser.add_argument("--travellers", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.database_url and "bench" not in args.database_url:
        parser.error("the PostgreSQL database is wiped: its name must contain 'bench'")
    with tempfile.TemporaryDirectory() as folder:
        urls = [
            f"sqlite:///{Path(folder) / 'rules.db'}",
            f"sqlite:///{Path(folder) / 'passing.db'}",
        ]
        if args.database_url:
            urls = [args.database_url, args.database_url]
        world, labels = run(urls[0], args)
        score(world, labels)
        if args.database_url:
            wipe(args.database_url)
        baseline, _ = run(urls[1], args, passing=True)
    per_rules = world.cpu / world.recalls * 1000
    per_passing = baseline.cpu / baseline.recalls * 1000
    print()
    print(
        f"CPU per recall (process_time), {world.recalls} recalls: risk rules {per_rules:.3f} ms, "
        f"passing assessor {per_passing:.3f} ms, added {per_rules - per_passing:.3f} ms"
    )


def wipe(url: str) -> None:
    """Empty the PostgreSQL benchmark database and migrate it again."""

    with psycopg.connect(
        url.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    migrate.upgrade(parse_url(url))


if __name__ == "__main__":
    main()
