"""Admission control: a bounded number in flight, a bounded queue, a bounded wait."""

from __future__ import annotations

import asyncio

from hongbao.entrypoints.ops.admission import Admission, AdmissionLimits


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def test_past_the_slots_and_the_queue_a_request_is_shed_at_once_and_a_freed_slot_passes_on() -> (
    None
):
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(max_in_flight=1, max_waiting=1, max_wait_seconds=30))
        assert await admission.enter()
        queued = asyncio.create_task(admission.enter())
        await asyncio.sleep(0)  # let it join the queue
        assert admission.state().waiting == 1
        assert not await admission.enter()  # queue full: refused without waiting
        state = admission.state()
        assert (state.in_flight, state.waiting, state.shed, state.shedding) == (1, 1, 1, True)
        admission.leave()  # the slot goes to the queued request
        assert await queued
        assert (admission.state().in_flight, admission.state().waiting) == (1, 0)
        admission.leave()
        assert admission.state().in_flight == 0

    run(scenario())


def test_a_wait_that_runs_out_is_shed_and_leaves_the_queue() -> None:
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(max_in_flight=1, max_waiting=5, max_wait_seconds=0))
        assert await admission.enter()
        assert not await admission.enter()
        assert (admission.state().waiting, admission.state().shed) == (0, 1)
        admission.leave()
        assert await admission.enter()  # nothing left behind: the slot is free again

    run(scenario())


def test_a_waiter_cancelled_after_it_was_handed_a_slot_passes_the_slot_on() -> None:
    async def scenario() -> None:
        admission = Admission(AdmissionLimits(max_in_flight=1, max_waiting=5, max_wait_seconds=30))
        assert await admission.enter()
        first = asyncio.create_task(admission.enter())
        second = asyncio.create_task(admission.enter())
        await asyncio.sleep(0)
        admission.leave()  # the slot is granted to ``first``...
        first.cancel()  # ...which is cancelled before it runs again
        await asyncio.gather(first, return_exceptions=True)
        assert await second
        assert admission.state().in_flight == 1

    run(scenario())
