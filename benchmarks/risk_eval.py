"""Risk evaluation: a seeded synthetic population through the real services, scored against
its planted labels (R-K3, R-K6).

Run from the project root::

    .venv/bin/python benchmarks/risk_eval.py --users 200 --days 10 --seed 7 --lockstep
    .venv/bin/python benchmarks/risk_eval.py --lockstep \
        --database-url postgresql://postgres@127.0.0.1:5432/risk_bench \
        --twin-database-url postgresql://postgres@127.0.0.1:5432/risk_bench_twin

Ordinary users send group packets in their group of friends and recall some of them hours
later, each around a habit of their own: how often (half a packet to two packets a day), how
much and how long after sending. One in ten pays with a credit card and accepts the balance
when the card can no longer take the refund. Planted among them:

- velocity abusers: seven recalls in an hour, every evening;
- structurers: four recalls a day just under the structuring amount;
- travellers: a recall in Shanghai, the next five minutes later in Beijing; half of them on
  the travel whitelist, which the rules must respect;
- a ring of ``--ring`` accounts sharing one SIM and cycling money three times an evening (one
  sends, the next claims, the sender recalls within minutes): the ring and rapid-cycle labels;
- card cash-out: packets charged to a credit card at 21:00 on its statement day and recalled
  to the balance after midnight, when the statement is issued (smart routing offers the
  balance; the casher takes it), then ordinary recalls on later days;
- drifters: a steady habit (four small recalls a day, about three hours after sending) that
  turns, on the last day, into a large recall a minute after sending: the behaviour label.

Everything runs through ``services_for`` on a fresh SQLite file (or the PostgreSQL database
given, whose schema is wiped: its name must contain ``bench``) with a ManualClock; the outbox
is drained by the embedded worker after each simulated hour, as the analysis lags.

The policy is the default one except that class I asks for no SMS code, smart routing is on
(without it a card's refund is never offered the balance, so there is no cash-out to find)
and the structuring amount is the face-verification threshold (the amount a structurer stays
under).

It prints, per detector (the analysis' flags, and the synchronous rules' face checks and
device locks), how many users it flagged, how many of them are ordinary, its precision against
its own label and against any planted abuser, and its recall of its label; then the decisions
in which each detector's signal fired with its evidence, the level distribution of ordinary
users' recalls, and the CPU per recall in the money path with the risk rules against a
``PassingAssessor`` (``time.process_time`` over the same recalls on fresh databases, in the
same run: with ``--lockstep`` both worlds take every step together, in alternating order;
otherwise ``--cpu-pairs`` pairs run one after the other, and the median of their differences).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from hongbao.bootstrap import Services, services_for
from hongbao.entrypoints.worker import EmbeddedWorker
from hongbao.funding.sources import CreditCardSource, mask_card_number
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
from hongbao.social.errors import SocialCode, SocialError
from hongbao.social.groups import Group, GroupMember, GroupType
from hongbao.storage import migrate
from hongbao.storage.factory import open_database
from hongbao.storage.urls import parse_url

HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
SHANGHAI = "31.2304,121.4737"
BEIJING = "39.9042,116.4074"  # about 1,070 km from Shanghai
START_US = 1_796_000_000_000_000
LOCAL = ZoneInfo("Asia/Shanghai")
DETECTORS = ("behaviour", "ring", "cash_out", "structuring", "rapid_cycle")
# The synchronous rules scored, by the signal that fires in the decision, with their label.
RULES = {"recall_attempts": "velocity", "travel_km": "travel", "recalled_amount": "cumulative"}
DRIFTER_RECALLS_A_DAY = 4
RING_ROUNDS = 3  # cycles each ring member runs an evening


def bench_policy() -> PolicyStore:
    base = default_policy()
    tier = base.recall.tiers.class_i.model_copy(update={"verification": ()})
    tiers = base.recall.tiers.model_copy(update={"class_i": tier})
    recall = base.recall.model_copy(update={"tiers": tiers})
    refunds = base.refunds.model_copy(update={"smart_routing": True})
    face = base.recall.security.face_above_minor
    risk = base.risk.model_copy(update={"structuring_amount_minor": face})
    return PolicyStore.fixed(
        base.model_copy(
            update={"recall": recall, "refunds": refunds, "risk": risk, "version": "risk-eval@1"}
        )
    )


@dataclass
class Planted:
    """The planted abusers, by label, and who pays with a credit card."""

    labels: dict[str, set[str]]
    velocity: list[str]
    structurers: list[str]
    travellers: list[str]
    ring: list[str]
    cashers: list[str]
    drifters: list[str]
    card_payers: set[str] = field(default_factory=set)


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
        # Per detector, the users whose decisions carried its fired signal, and one evidence.
        self.signalled: dict[str, set[str]] = {}
        self.evidence: dict[str, str] = {}
        self.cpu = 0.0
        self.recalls = 0
        self.cards = 0
        self.banned_sends = 0  # ordinary sends refused by a group's recall limit (R-S)

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

    def credit_card(self, user_id: str, statement_day: int) -> None:
        """A card of the user's own: a number no other user's card shares."""
        self.cards += 1
        self.services.funding.add_funding_source(
            CreditCardSource(
                f"{user_id}-credit",
                user_id,
                "CMB",
                mask_card_number(card_number(self.cards)),
                statement_day,
            )
        )

    def group(self, group_id: str, users: list[str]) -> None:
        self.services.social.create_group(
            Group(group_id, group_id, GroupType.WORK, users[0], START_US - HOUR_US)
        )
        for user in users[1:]:
            self.services.social.add_member(GroupMember(group_id, user, START_US - HOUR_US))

    def send(
        self,
        user: str,
        group: str,
        amount_minor: int,
        sim: str | None = None,
        source: str | None = None,
    ) -> str:
        self.sent += 1
        packet_id = f"p-{self.sent}"
        self.services.packets.send(
            SendPacket(
                packet_id,
                PacketType.GROUP_NORMAL,
                user,
                Money.of(amount_minor, "CNY"),
                3,
                source or f"{user}-balance",
                group_id=group,
                device=DeviceFingerprint(f"{user}-phone", sim or f"{user}-sim"),
            )
        )
        return packet_id

    def recall(
        self,
        user: str,
        packet_id: str,
        sim: str | None = None,
        place: str | None = None,
        *,
        accept_balance: bool = False,
    ) -> int:
        command = RecallCommand(
            f"r-{packet_id}",
            packet_id,
            user,
            DeviceFingerprint(f"{user}-phone", sim or f"{user}-sim"),
            accept_balance=accept_balance,
            place=parse_place(place),
        )
        started = time.process_time()
        outcome = self.services.recalls.recall(command)
        self.cpu += time.process_time() - started
        self.recalls += 1
        level = self._read_risk(user, outcome.decision.decision_id)
        self.levels.setdefault(user, Counter())[level] += 1
        self.reasons.setdefault(user, set()).update(r.value for r in outcome.decision.reasons)
        return level

    def _read_risk(self, user: str, decision_id: str) -> int:
        """The decision's risk level; notes which detectors' signals fired in it."""
        record = self.services.database.read(lambda uow: uow.recalls.decisions.get(decision_id))
        if record is None:
            return 0
        risk = json.loads(record.facts)["risk"]
        for signal in risk.get("signals", ()):
            if signal.get("fired"):
                self.signalled.setdefault(signal["name"], set()).add(user)
                self.evidence.setdefault(signal["name"], str(signal.get("evidence")))
        return int(risk["level"])

    def advance(self, microseconds: int) -> None:
        self.clock.advance(microseconds=microseconds)
        self.worker.drain()

    def count_banned_send(self) -> None:
        self.banned_sends += 1

    def until(self, moment_us: int) -> None:
        """Move the clock to ``moment_us``; the worker drains at each whole hour on the way
        (the analysis lags the recalls by up to an hour)."""
        now = self.clock.now_us()
        next_hour = now + HOUR_US - (now - START_US) % HOUR_US
        while next_hour <= moment_us:
            self.advance(next_hour - self.clock.now_us())
            next_hour += HOUR_US
        self.clock.advance(microseconds=max(0, moment_us - self.clock.now_us()))

    def local(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_us() / 1_000_000, LOCAL)

    def until_local(self, hour: int, minute: int = 0) -> None:
        """Advance to the next ``hour:minute`` in Asia/Shanghai (the card's statement clock)."""
        now = self.local()
        target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= now:
            target += timedelta(days=1)
        remaining = int((target - now).total_seconds() * 1_000_000)
        while remaining > 0:  # the worker runs every quarter hour: captures on time
            step = min(remaining, 15 * MINUTE_US)
            self.advance(step)
            remaining -= step


def card_number(serial: int) -> str:
    """A 16-digit card number ending in ``serial`` (before its Luhn check digit)."""
    body = f"622588{serial:09d}"
    total = 0
    for position, digit in enumerate(reversed(body)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def plant(world: Any, args: argparse.Namespace, ordinary: list[str]) -> Planted:
    """Register the planted abusers, their groups and exemptions, and label them."""
    planted = Planted(
        labels={},
        velocity=[f"v{n}" for n in range(args.velocity)],
        structurers=[f"s{n}" for n in range(args.structurers)],
        travellers=[f"t{n}" for n in range(args.travellers)],
        ring=[f"ring{n}" for n in range(args.ring)],
        cashers=[f"c{n}" for n in range(args.cashers)],
        drifters=[f"d{n}" for n in range(args.drifters)],
    )
    whitelisted = set(planted.travellers[: len(planted.travellers) // 2])
    loners = (
        planted.velocity + planted.structurers + planted.travellers + planted.cashers
    ) + planted.drifters
    for user in loners:
        world.user(user)
    for user in sorted(whitelisted):
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
    for user in planted.ring:
        world.user(user, sim="ring-sim")
    world.group("gv", loners)
    for user in planted.drifters:
        for slot in [*map(str, range(DRIFTER_RECALLS_A_DAY)), "turn", "after"]:
            world.group(f"gd-{user}-{slot}", [user, *planted.drifters[:1], ordinary[0]])
    world.group("gring", planted.ring)
    rng = random.Random(args.seed + 1)
    planted.card_payers = {user for user in ordinary if rng.random() < 0.1}
    for user in sorted(planted.card_payers):
        world.credit_card(user, rng.randint(1, 28))
    planted.labels = {
        "velocity": set(planted.velocity),
        "ring": set(planted.ring),
        "rapid_cycle": set(planted.ring),
        "structuring": set(planted.structurers),
        "travel": set(planted.travellers) - whitelisted,
        "cash_out": set(planted.cashers),
        "behaviour": set(planted.drifters),
    }
    return planted


# One step of a day: (microseconds after the day's start, order, user, packet token, action,
# amount). A send registers its packet under the token; the recall names the same token.
Step = tuple[int, int, str, str, str, int]


def _day_steps(
    rng: random.Random,
    day: int,
    *,
    ordinary: list[str],
    habits: dict[str, tuple[float, int, int]],
    planted: Planted,
    args: argparse.Namespace,
) -> list[Step]:
    face = bench_policy().active().recall.security.face_above_minor
    steps: list[Step] = []
    for user in ordinary:
        rate, mean, delay_hours = habits[user]
        for n in range(2):
            if rng.random() >= rate / 2:
                continue
            amount = max(1_00, min(face, int(rng.gauss(mean, mean / 4))))
            at = rng.randint(0, 12) * HOUR_US + rng.randint(0, 59) * MINUTE_US
            delay = max(1, int(rng.gauss(delay_hours, 2))) * HOUR_US // 2
            token = f"{user}#{day}.{n}"
            steps += [(at, 0, user, token, "send", amount), (at + delay, 1, user, token, "", 0)]
    last_day = day == args.days - 1
    for user in planted.drifters:
        mean = habits[user][1]
        for n in range(DRIFTER_RECALLS_A_DAY):
            at = (n * 3 + 1) * HOUR_US
            amount = int(rng.gauss(mean, mean / 10))
            token = f"{user}#{day}.{n}"
            recall_at = at + 3 * HOUR_US
            steps += [(at, 0, user, token, "send", amount), (recall_at, 1, user, token, "", 0)]
        if last_day:  # the account turns: a large recall a minute after sending
            at = 13 * HOUR_US
            token = f"{user}#{day}.turn"
            amount = face - 10_00
            steps += [(at, 0, user, token, "send", amount), (at + MINUTE_US, 1, user, token, "", 0)]
            # Two hours on, the analysis has flagged the turn: the flag weighs on this recall.
            at, token = 15 * HOUR_US, f"{user}#{day}.after"
            steps += [(at, 0, user, token, "send", mean), (at + HOUR_US, 1, user, token, "", 0)]
    return sorted(steps)


class Lockstep:
    """Worlds that take every step together: a call on it is made on each, the first one's
    answer returned, an attribute is the worlds' attributes in lockstep. Which world goes
    first alternates from call to call (the second finds the code warm in the caches). The
    risk rules' world and a passing one so share every moment of the machine's load, and
    their CPU per recall differs by the risk work, not by when each ran."""

    def __init__(self, *targets: Any, calls: list[int] | None = None) -> None:
        self._targets = targets
        self._calls = [0] if calls is None else calls

    def __getattr__(self, name: str) -> Any:
        values = [getattr(target, name) for target in self._targets]
        if not callable(values[0]):
            return Lockstep(*values, calls=self._calls)

        def call(*arguments: Any, **keywords: Any) -> Any:
            self._calls[0] += 1
            order = range(len(values)) if self._calls[0] % 2 else reversed(range(len(values)))
            answers: dict[int, Any] = {}
            refusals: dict[int, Exception] = {}
            for n in order:  # every world takes the step, even when another is refused
                try:
                    answers[n] = values[n](*arguments, **keywords)
                except Exception as refused:  # noqa: BLE001 - raised again below
                    refusals[n] = refused
            if refusals:
                raise refusals[min(refusals)]
            return answers[0]

        return call


def run(
    url: str, args: argparse.Namespace, *, passing: bool = False, twin_url: str | None = None
) -> tuple[World, Planted, World | None]:
    """The scenario on ``url``; with ``twin_url``, also on a passing world in lockstep."""
    rng = random.Random(args.seed)
    first = World(url, passing=passing)
    twin = None if twin_url is None else World(twin_url, passing=True)
    world: Any = first if twin is None else Lockstep(first, twin)
    ordinary = [f"u{n:04d}" for n in range(args.users)]
    for user in ordinary:
        world.user(user)
    groups = [ordinary[i : i + 8] for i in range(0, len(ordinary), 8)]
    for n, members in enumerate(groups):
        world.group(f"g{n}", members)
    planted = plant(world, args, ordinary)
    habits = {
        user: (rng.choice((0.5, 1.0, 2.0)), rng.randint(10_00, 150_00), rng.randint(2, 20))
        for user in ordinary
    }
    habits.update({user: (4.0, rng.randint(10_00, 20_00), 6) for user in planted.drifters})
    for day in range(args.days):
        day_start = world.clock.now_us()
        sent: dict[str, str] = {}
        for at, _, user, token, action, amount in _day_steps(
            rng, day, ordinary=ordinary, habits=habits, planted=planted, args=args
        ):
            world.until(day_start + at)
            card = user in planted.card_payers
            if action == "send":
                # A drifter has a group per slot of the day, so no group's limit stops them.
                group = (
                    f"gd-{user}-{token.rsplit('.', 1)[1]}"
                    if user in planted.drifters
                    else f"g{ordinary.index(user) // 8}"
                )
                source = f"{user}-credit" if card else None
                try:
                    sent[token] = world.send(user, group, amount, source=source)
                except SocialError as refused:
                    # Too many recalls in this group today: the user cannot send here now.
                    if refused.code is not SocialCode.GROUP_SEND_BANNED:
                        raise
                    world.count_banned_send()
            elif token in sent:
                world.recall(user, sent.pop(token), accept_balance=card)
        _abusers_act(world, rng, planted, first_evening=day == 0)
        hours = (world.clock.now_us() - day_start) // HOUR_US
        world.advance(max(1, 24 - hours) * HOUR_US)
    world.worker.drain()
    return first, planted, twin


def _abusers_act(
    world: World, rng: random.Random, planted: Planted, *, first_evening: bool
) -> None:
    """The planted abusers' evening: velocity, structuring, travel, the ring's cycles and,
    on the first evening, the card cash-out across a statement's midnight."""
    face = world.store.active().recall.security.face_above_minor
    for user in planted.velocity:
        for _ in range(7):
            world.recall(user, world.send(user, "gv", rng.randint(5_00, 50_00)))
            world.clock.advance(microseconds=5 * MINUTE_US)
    for user in planted.structurers:
        for _ in range(4):
            world.recall(user, world.send(user, "gv", face - rng.randint(1_00, 15_00)))
            world.clock.advance(microseconds=20 * MINUTE_US)
    # Once: a traveller off the whitelist has a locked device from then on.
    for user in planted.travellers if first_evening else ():
        world.recall(user, world.send(user, "gv", 20_00), place=SHANGHAI)
        world.clock.advance(microseconds=5 * MINUTE_US)
        world.recall(user, world.send(user, "gv", 20_00), place=BEIJING)
    for _ in range(RING_ROUNDS):
        for n, user in enumerate(planted.ring):
            packet = world.send(user, "gring", rng.randint(100_00, 190_00), sim="ring-sim")
            world.services.packets.claim(packet, planted.ring[(n + 1) % len(planted.ring)])
            world.clock.advance(microseconds=3 * MINUTE_US)
            world.recall(user, packet, sim="ring-sim")
    if first_evening:
        _cash_out(world, rng, planted.cashers)
    else:  # the cashers' later, ordinary-looking recalls: the flags weigh on them
        for user in planted.cashers:
            world.recall(user, world.send(user, "gv", rng.randint(20_00, 80_00)))


def _cash_out(world: World, rng: random.Random, cashers: list[str]) -> None:
    """Charge the card at 21:00 on its statement day; after midnight the statement is issued,
    the card can no longer take a refund and the balance is taken instead."""
    world.until_local(21)
    for user in cashers:
        world.credit_card(user, world.local().day)
    packets = {
        user: [world.send(user, "gv", rng.randint(100_00, 190_00), source=f"{user}-credit")]
        for user in cashers
    }
    for user in cashers:
        packets[user].append(
            world.send(user, "gv", rng.randint(100_00, 190_00), source=f"{user}-credit")
        )
    # After the banks' nightly maintenance and the settlement blackout.
    world.until_local(0, 45)
    for user in cashers:
        for packet in packets[user]:
            world.recall(user, packet, accept_balance=True)
            world.clock.advance(microseconds=10 * MINUTE_US)


def score(world: World, planted: Planted) -> None:
    flags = world.services.database.read(lambda uow: uow.risk.flags.page(None, limit=100_000))
    by_detector: dict[str, set[str]] = {}
    for flag in flags:
        by_detector.setdefault(flag.detector.value, set()).add(flag.user_id)
    labels = planted.labels
    abusers = set().union(*labels.values())
    # The synchronous rules: whose decisions carried their fired signal.
    for rule, label in RULES.items():
        by_detector[rule] = world.signalled.get(rule, set())
        labels = {**labels, rule: labels.get(label, set())}
    print(
        "| detector | flagged | ordinary flagged | precision (its label) "
        "| precision (any planted) | recall (its label) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for detector in (*DETECTORS, *RULES):
        flagged = by_detector.get(detector, set())
        label = labels[detector]
        ordinary = sum(1 for user in flagged if user.startswith("u"))
        own = f"{len(flagged & label) / len(flagged):.0%}" if flagged else "-"
        anyone = f"{len(flagged & abusers) / len(flagged):.0%}" if flagged else "-"
        recall = f"{len(flagged & label) / len(label):.0%}" if label else "-"
        print(f"| {detector} | {len(flagged)} | {ordinary} | {own} | {anyone} | {recall} |")
    print()
    print("| detector | users whose decisions carry its signal | of its label | evidence (first) |")
    print("|---|---:|---:|---|")
    for detector in DETECTORS:
        users = world.signalled.get(detector, set())
        found = len(users & labels[detector])
        evidence = world.evidence.get(detector, "-")
        print(f"| {detector} | {len(users)} | {found}/{len(labels[detector])} | `{evidence}` |")
    ordinary_levels = Counter[int]()
    for user, levels in world.levels.items():
        if user.startswith("u"):
            ordinary_levels.update(levels)
    total = sum(ordinary_levels.values())
    print()
    print(
        f"ordinary recalls: {total}; by level: "
        + ", ".join(f"{lvl}: {ordinary_levels[lvl]}" for lvl in range(5))
    )
    high = sum(ordinary_levels[lvl] for lvl in range(2, 5))
    print(f"ordinary recalls at level >= 2: {high} ({high / max(total, 1):.2%})")
    print(f"ordinary sends refused by a group's recall limit: {world.banned_sends}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--velocity", type=int, default=3)
    parser.add_argument("--structurers", type=int, default=3)
    parser.add_argument("--ring", type=int, default=8)
    parser.add_argument("--travellers", type=int, default=4)
    parser.add_argument("--cashers", type=int, default=3)
    parser.add_argument("--drifters", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--cpu-pairs",
        type=int,
        default=1,
        help="runs of the scenario with the risk rules and with a passing assessor, in "
        "alternating order; the added CPU is the median of the pairs' differences",
    )
    parser.add_argument(
        "--lockstep",
        action="store_true",
        help="run the risk rules' world and a passing one together, step by step",
    )
    parser.add_argument(
        "--twin-database-url",
        default=None,
        help="with --lockstep on PostgreSQL: the passing world's database (wiped too)",
    )
    args = parser.parse_args()
    for url in (args.database_url, args.twin_database_url):
        if url and "bench" not in url:
            parser.error("a PostgreSQL database is wiped: its name must contain 'bench'")
    if args.lockstep and bool(args.database_url) != bool(args.twin_database_url):
        parser.error("--lockstep on PostgreSQL needs --database-url and --twin-database-url")
    if args.lockstep:
        lockstep(args)
        return
    added: list[float] = []
    for pair in range(max(1, args.cpu_pairs)):
        per_recall: dict[bool, float] = {}
        # Alternate which runs first, so that a machine's drift falls on both alike.
        for passing in (False, True) if pair % 2 == 0 else (True, False):
            world = fresh_run(args, passing=passing, scored=pair == 0 and not passing)
            per_recall[passing] = world.cpu / world.recalls * 1000
        added.append(per_recall[False] - per_recall[True])
        print(
            f"CPU per recall (process_time), {world.recalls} recalls, pair {pair + 1}: "
            f"risk rules {per_recall[False]:.3f} ms, passing assessor {per_recall[True]:.3f} ms, "
            f"added {added[-1]:.3f} ms"
        )
    print(f"added CPU per recall, median of {len(added)}: {statistics.median(added):.3f} ms")


def lockstep(args: argparse.Namespace) -> None:
    """The risk rules' world and a passing one in lockstep (see ``Lockstep``), scored."""
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'risk.db'}"
        twin_url = args.twin_database_url or f"sqlite:///{Path(folder) / 'passing.db'}"
        for database in (args.database_url, args.twin_database_url):
            if database:
                wipe(database)
        world, planted, twin = run(url, args, twin_url=twin_url)
        score(world, planted)
    if twin is None:
        raise RuntimeError("a lockstep run has its passing twin")
    rules, passing = world.cpu / world.recalls * 1000, twin.cpu / twin.recalls * 1000
    print()
    print(
        f"CPU per recall (process_time, in lockstep), {world.recalls} and {twin.recalls} "
        f"recalls: risk rules {rules:.3f} ms, passing assessor {passing:.3f} ms, "
        f"added {rules - passing:.3f} ms"
    )


def fresh_run(args: argparse.Namespace, *, passing: bool, scored: bool) -> World:
    """The scenario on a fresh database (a new SQLite file, or the PostgreSQL one wiped),
    scored against its labels while the database is there when ``scored``."""
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'risk.db'}"
        if args.database_url:
            wipe(url)
        world, planted, _ = run(url, args, passing=passing)
        if scored:
            score(world, planted)
            print()
        return world


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
