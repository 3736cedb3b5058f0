"""The per-user detectors of the behaviour analysis (R-K3), as pure functions over the state
kept for each user: one recall seen at a time, a new state and the flags it raises out.

- behaviour: exponentially weighted baselines of the user's recalled amounts and of the time
  from sending to recalling, on a log scale (doublings: a minute and two minutes are as far
  apart as an hour and two), each a mean and a mean absolute deviation in fixed point
  (integers scaled by ``FIXED_POINT``); a recall above the amount baseline, or off the timing
  baseline either way, by more than ``behaviour_deviations`` spreads raises the behaviour flag
  once ``behaviour_min_samples`` recalls are known (a new user has no baseline to be off);
- cash-out: credit-card-funded packets recalled to the balance (money drawn on credit comes
  back as cash), ``cash_out_count`` of them in the flow window;
- structuring: recalls just under ``structuring_amount`` (within ``structuring_band_percent``
  of it), ``structuring_count`` of them in the flow window;
- rapid cycle: a packet claimed by an account linked to the sender and recalled within
  ``cycle_minutes`` of sending, ``cycle_count`` of them in the flow window.

Every list of times is bounded (``MAX_TIMES_KEPT``); the counts only need the window's last few.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Final

from hongbao.platform.clock import MICROSECONDS_PER_SECOND
from hongbao.policy.document import RiskPolicy
from hongbao.risk.flags import Detector, RiskFlag

FIXED_POINT: Final = 1_000  # baselines are kept in thousandths of their unit
SMOOTHING_SHIFT: Final = 3  # each new value weighs 1/8 in the baselines
MAX_TIMES_KEPT: Final = 16
MICROSECONDS_PER_HOUR: Final = 3_600 * MICROSECONDS_PER_SECOND
# A timing baseline of identical delays still allows half a doubling either way.
MIN_DELAY_SPREAD_FP: Final = FIXED_POINT // 2


@dataclass(frozen=True, slots=True)
class BehaviourState:
    """What the analysis keeps of one user, one row: baselines and recent fund-flow events."""

    user_id: str
    samples: int = 0
    amount_mean_fp: int = 0  # minor units x FIXED_POINT
    amount_spread_fp: int = 0
    delay_mean_fp: int = 0  # log2 of the seconds from sending to recalling x FIXED_POINT
    delay_spread_fp: int = 0
    cash_outs: str = "[]"  # JSON: times (µs) of card-funded recalls to the balance
    near_limit: str = "[]"  # JSON: times (µs) of recalls just under structuring_amount
    cycles: str = "[]"  # JSON: times (µs) of rapid cycles with linked accounts
    updated_at_us: int = 0


@dataclass(frozen=True, slots=True)
class RecallSeen:
    """An executed recall as the analysis sees it."""

    user_id: str
    at_us: int
    amount_minor: int
    delay_us: int  # from the packet's sending to this recall
    card_to_balance: bool  # a credit-card-funded packet whose refund went to the balance
    linked_cycles: int  # claimers linked to the sender, when recalled within cycle_minutes


@dataclass(frozen=True, slots=True)
class Observed:
    state: BehaviourState
    flags: tuple[RiskFlag, ...]


def observe(state: BehaviourState, seen: RecallSeen, policy: RiskPolicy) -> Observed:
    """``state`` after ``seen``, with the flags it raises; the baseline is compared with
    before it takes this recall in, so an outlier does not excuse itself."""
    flags: list[RiskFlag] = []
    outlier = _outlier(state, seen, policy)
    if outlier is not None:
        flags.append(_flag(seen, Detector.BEHAVIOUR, policy.behaviour_level, outlier, policy))
    state = _with_baselines(state, seen)
    window_start = seen.at_us - policy.flow_window_hours * MICROSECONDS_PER_HOUR
    window = f"{policy.flow_window_hours} h"
    if seen.card_to_balance:
        state = replace(state, cash_outs=_added(state.cash_outs, seen.at_us))
        count = _count_since(state.cash_outs, window_start)
        if count >= policy.cash_out_count:
            evidence = {"card_to_balance_recalls": count, "window": window}
            flags.append(_flag(seen, Detector.CASH_OUT, policy.cash_out_level, evidence, policy))
    if _just_under(seen.amount_minor, policy):
        state = replace(state, near_limit=_added(state.near_limit, seen.at_us))
        count = _count_since(state.near_limit, window_start)
        if count >= policy.structuring_count:
            evidence = {
                "recalls_just_under": count,
                "amount_minor": policy.structuring_amount_minor,
                "band_percent": policy.structuring_band_percent,
                "window": window,
            }
            flags.append(
                _flag(seen, Detector.STRUCTURING, policy.structuring_level, evidence, policy)
            )
    if seen.linked_cycles > 0:
        times = json.loads(state.cycles) + [seen.at_us] * seen.linked_cycles
        state = replace(state, cycles=json.dumps(times[-MAX_TIMES_KEPT:]))
        count = _count_since(state.cycles, window_start)
        if count >= policy.cycle_count:
            evidence = {"linked_cycles": count, "window": window}
            flags.append(_flag(seen, Detector.RAPID_CYCLE, policy.cycle_level, evidence, policy))
    return Observed(replace(state, updated_at_us=seen.at_us), tuple(flags))


def flag_for(
    user_id: str,
    detector: Detector,
    level: int,
    evidence: dict[str, object],
    *,
    now_us: int,
    policy: RiskPolicy,
) -> RiskFlag:
    """A flag raised now, in force for the policy's ``flag_hours``."""
    return RiskFlag(
        user_id,
        detector,
        level,
        json.dumps(evidence, sort_keys=True, ensure_ascii=False),
        now_us,
        now_us + policy.flag_hours * MICROSECONDS_PER_HOUR,
    )


def _flag(
    seen: RecallSeen,
    detector: Detector,
    level: int,
    evidence: dict[str, object],
    policy: RiskPolicy,
) -> RiskFlag:
    return flag_for(seen.user_id, detector, level, evidence, now_us=seen.at_us, policy=policy)


def _outlier(
    state: BehaviourState, seen: RecallSeen, policy: RiskPolicy
) -> dict[str, object] | None:
    """What is off the baseline, if anything is and the baseline is known well enough."""
    if state.samples < policy.behaviour_min_samples:
        return None
    k = policy.behaviour_deviations
    amount_fp = seen.amount_minor * FIXED_POINT
    amount_spread = max(
        state.amount_spread_fp, state.amount_mean_fp * policy.behaviour_min_spread_percent // 100
    )
    delay_fp = log2_fp(seen.delay_us)
    delay_spread = max(state.delay_spread_fp, MIN_DELAY_SPREAD_FP)
    off: dict[str, object] = {}
    if amount_fp > state.amount_mean_fp + k * amount_spread:
        off["amount_minor"] = seen.amount_minor
        off["amount_mean_minor"] = state.amount_mean_fp // FIXED_POINT
        off["amount_spread_minor"] = amount_spread // FIXED_POINT
    if abs(delay_fp - state.delay_mean_fp) > k * delay_spread:
        off["delay_seconds"] = seen.delay_us // MICROSECONDS_PER_SECOND
        off["delay_mean_log2_fp"] = state.delay_mean_fp
        off["delay_spread_log2_fp"] = delay_spread
    if not off:
        return None
    return {**off, "deviations": k, "samples": state.samples}


def _with_baselines(state: BehaviourState, seen: RecallSeen) -> BehaviourState:
    amount_fp = seen.amount_minor * FIXED_POINT
    delay_fp = log2_fp(seen.delay_us)
    if state.samples == 0:
        return replace(state, samples=1, amount_mean_fp=amount_fp, delay_mean_fp=delay_fp)
    amount_mean, amount_spread = _smoothed(state.amount_mean_fp, state.amount_spread_fp, amount_fp)
    delay_mean, delay_spread = _smoothed(state.delay_mean_fp, state.delay_spread_fp, delay_fp)
    return replace(
        state,
        samples=state.samples + 1,
        amount_mean_fp=amount_mean,
        amount_spread_fp=amount_spread,
        delay_mean_fp=delay_mean,
        delay_spread_fp=delay_spread,
    )


def _smoothed(mean: int, spread: int, value: int) -> tuple[int, int]:
    """The exponentially weighted mean and mean absolute deviation after ``value``."""
    deviation = abs(value - mean)
    return (
        mean + ((value - mean) >> SMOOTHING_SHIFT),
        spread + ((deviation - spread) >> SMOOTHING_SHIFT),
    )


def log2_fp(delay_us: int) -> int:
    """log2 of the delay in whole seconds (at least 1), x FIXED_POINT: the integer part from
    the bit length, the fraction interpolated linearly between the powers of two."""
    seconds = max(1, delay_us // MICROSECONDS_PER_SECOND)
    power = seconds.bit_length() - 1
    return power * FIXED_POINT + ((seconds - (1 << power)) * FIXED_POINT >> power)


def _just_under(amount_minor: int, policy: RiskPolicy) -> bool:
    limit = policy.structuring_amount_minor
    floor = limit * (100 - policy.structuring_band_percent) // 100
    return floor <= amount_minor < limit


def _added(times_json: str, at_us: int) -> str:
    times: list[int] = json.loads(times_json)
    return json.dumps([*times, at_us][-MAX_TIMES_KEPT:])


def _count_since(times_json: str, start_us: int) -> int:
    times: list[int] = json.loads(times_json)
    return sum(1 for at in times if at > start_us)
