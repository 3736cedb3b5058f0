"""The send-time guard's cost per send, and the regret score's precision on a seeded history.

Run from the project root::

    .venv/bin/python benchmarks/regret_bench.py --evaluations 100000 --senders 2000 --seed 18

Two figures, both in one process with no database:

- **CPU per send** (``time.process_time``): ``regret_score`` alone, and the whole guard a send
  runs (``guard_send``: local time in Beijing, the night window, the score from two counter
  rows, the three checks, the offered 08:00), over ``--evaluations`` sends with varied
  counters, amounts and hours. Target: <= 0.2 ms per send for the score.
- **precision on a seeded history**: ``--senders`` senders, each with a latent habit of
  recalling (most rarely, a few often, some towards one audience only) and a usual amount,
  send 20-60 packets to 1-4 audiences at hours drawn from a day's curve. Before each send the
  guard is asked with the sender's counters as they stand (only what happened before that
  send); then whether the send is recalled is drawn from the latent habit (twice as likely at
  night, three times for an amount five times the sender's usual), and the counters are
  updated as sends and recalls update them in service. Precision: of the sends the regret
  score stopped, how many were then recalled; recall: of the recalled sends, how many it
  stopped; the base rate is the share of all sends recalled. The context rule (night, >= 200,
  work group) is reported apart, since it stops sends whatever the history.

The generator's habits are assumptions, stated above; the figures say how well the score
ranks sends under them, not how real people behave.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from hongbao.money import Money
from hongbao.packets.guard import GuardReason
from hongbao.packets.guarding import guard_send
from hongbao.packets.model import PacketType
from hongbao.packets.regret import EVERYONE, SendHabits, regret_score
from hongbao.packets.service import SendPacket
from hongbao.platform.clock import from_datetime
from hongbao.policy.document import default_policy

BEIJING = ZoneInfo("Asia/Shanghai")
DAY_US = 24 * 3600 * 1_000_000
START_US = from_datetime(datetime(2026, 11, 1, tzinfo=BEIJING))
# Hours people send at: mostly daytime and evening, a tail through the night.
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 1, 2, 4, 6, 6, 6, 6, 8, 6, 5, 5, 5, 6, 8, 10, 10, 9, 6, 4]


def _command(sender: str, audience: str, amount_minor: int, group: bool) -> SendPacket:
    return SendPacket(
        "bench",
        PacketType.GROUP_NORMAL if group else PacketType.PERSONAL,
        sender,
        Money.of(amount_minor, "CNY"),
        1,
        f"{sender}-balance",
        group_id=audience if group else None,
        recipient_id=None if group else audience,
    )


def measure_cpu(evaluations: int, rng: random.Random) -> tuple[float, float]:
    """Milliseconds of CPU per send: the score alone, and the whole guard."""
    policy = default_policy()
    cases = []
    for n in range(1_000):
        sends = rng.randint(0, 200)
        overall = SendHabits("s", EVERYONE, sends, rng.randint(0, sends), sends * 50_00, 0)
        towards = replace(overall, audience_id="group:g", sends=sends // 2, recalls=sends // 4)
        moment = START_US + rng.randint(0, DAY_US)
        amount = rng.randint(1_00, 20_000_00)
        cases.append((overall, towards, moment, amount, _command("s", "g", amount, n % 2 == 0)))
    regret = policy.guard.regret
    started = time.process_time()
    for n in range(evaluations):
        overall, towards, _moment, amount, _sent = cases[n % len(cases)]
        regret_score(overall, towards, amount_minor=amount, at_night=n % 3 == 0, policy=regret)
    score_ms = (time.process_time() - started) * 1_000 / evaluations
    started = time.process_time()
    for n in range(evaluations):
        overall, towards, moment, _amount, command = cases[n % len(cases)]
        guard_send(command, policy, moment, group_type="work", overall=overall, towards=towards)
    guard_ms = (time.process_time() - started) * 1_000 / evaluations
    return score_ms, guard_ms


@dataclass
class Tally:
    sends: int = 0
    recalled: int = 0
    stopped: int = 0
    stopped_recalled: int = 0
    context_stopped: int = 0
    context_recalled: int = 0

    def add(self, *, by_score: bool, by_context: bool, recalled: bool) -> None:
        self.sends += 1
        self.recalled += recalled
        self.stopped += by_score
        self.stopped_recalled += by_score and recalled
        self.context_stopped += by_context
        self.context_recalled += by_context and recalled


def _recall_chance(base: float, night: bool, unusual: bool) -> float:
    return min(0.95, base * (2 if night else 1) * (3 if unusual else 1))


def simulate(senders: int, rng: random.Random) -> Tally:
    """The seeded history: the guard asked before each send with the counters of the past."""
    policy = default_policy()
    tally = Tally()
    for number in range(senders):
        sender = f"s{number}"
        habit = rng.choices([0.01, 0.05, 0.3], weights=[70, 22, 8])[0]
        usual = rng.choice([5_00, 20_00, 50_00, 100_00])
        audiences = [f"a{number}-{n}" for n in range(rng.randint(1, 4))]
        sore = rng.choice(audiences) if rng.random() < 0.2 else None  # recalls towards one only
        counters = {EVERYONE: SendHabits.none(sender, EVERYONE)}
        moment = START_US
        for _send in range(rng.randint(20, 60)):
            day = rng.randint(0, 2)
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            moment += day * DAY_US + hour * 3600 * 1_000_000 + rng.randint(0, 3599) * 1_000_000
            audience = rng.choice(audiences)
            group = audience.endswith(("-0", "-1"))
            unusual = rng.random() < 0.08
            amount = usual * (5 if unusual else 1) + rng.randint(0, usual // 2)
            key = f"group:{audience}" if group else f"user:{audience}"
            towards = counters.get(key, SendHabits.none(sender, key))
            verdict = guard_send(
                _command(sender, audience, amount, group),
                policy,
                moment,
                group_type="work" if group else None,
                overall=counters[EVERYONE],
                towards=towards,
            )
            night = any(
                check.hit for check in verdict.checks if check.reason is GuardReason.LATE_NIGHT
            )
            base = habit * (3 if audience == sore else 1)
            recalled = rng.random() < _recall_chance(base, night, unusual)
            context = all(check.hit for check in verdict.checks)  # night, amount, group
            tally.add(by_score=verdict.regret.reached, by_context=context, recalled=recalled)
            for name, row in ((EVERYONE, counters[EVERYONE]), (key, towards)):
                counters[name] = replace(
                    row,
                    sends=row.sends + 1,
                    recalls=row.recalls + recalled,
                    amount_sum_minor=row.amount_sum_minor + amount,
                )
    return tally


def _percent(part: int, whole: int) -> str:
    return "-" if whole == 0 else f"{100 * part / whole:.1f}%"


def main(arguments: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evaluations", type=int, default=100_000)
    parser.add_argument("--senders", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=18)
    options = parser.parse_args(arguments)
    rng = random.Random(options.seed)
    score_ms, guard_ms = measure_cpu(options.evaluations, rng)
    tally = simulate(options.senders, rng)
    print(f"```\n.venv/bin/python benchmarks/regret_bench.py {shlex.join(arguments)}\n```\n")
    print("| figure | value |\n|---|---:|")
    print(f"| CPU per send, regret score alone | {score_ms * 1_000:.1f} µs |")
    print(f"| CPU per send, the whole guard | {guard_ms * 1_000:.1f} µs |")
    print(f"| sends in the seeded history | {tally.sends} |")
    print(f"| recalled (base rate) | {tally.recalled} ({_percent(tally.recalled, tally.sends)}) |")
    print(f"| stopped by the regret score | {tally.stopped} |")
    precision = _percent(tally.stopped_recalled, tally.stopped)
    print(f"| of those, recalled (precision) | {tally.stopped_recalled} ({precision}) |")
    covered = _percent(tally.stopped_recalled, tally.recalled)
    print(f"| recalled sends it stopped (recall) | {covered} |")
    context = _percent(tally.context_recalled, tally.context_stopped)
    print(f"| stopped by the context rule / recalled | {tally.context_stopped} / {context} |")


if __name__ == "__main__":
    main(sys.argv[1:])
