"""The group committer: requests that wait together are carried out together, a failing batch
answers only its faulty item, and the waiting room is bounded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from hongbao.platform.group_commit import CommitterBusy, CommitterClosed, GroupCommitter


class Recorder:
    """A batch function that records its batches and can be held at the door."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.entered.set()
        self.gate.wait(timeout=10)
        self.batches.append(list(items))
        if any(item < 0 for item in items):
            raise ValueError(f"negative items in {list(items)}")
        return [item * 10 for item in items]


def test_a_lone_request_is_carried_out_at_once() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test")
    assert committer.run(4) == 40
    committer.close()
    assert recorder.batches == [[4]]


def test_requests_that_arrive_while_a_batch_runs_share_the_next_one() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test", max_batch=3)
    recorder.gate.clear()
    first = committer.submit(1)
    assert recorder.entered.wait(timeout=10)
    later = [committer.submit(item) for item in (2, 3, 4, 5)]
    recorder.gate.set()
    assert [future.result(timeout=10) for future in [first, *later]] == [10, 20, 30, 40, 50]
    committer.close()
    assert recorder.batches == [[1], [2, 3, 4], [5]]
    figures = committer.figures
    assert (figures.batches, figures.items, figures.largest) == (3, 5, 3)


def test_a_failing_batch_is_run_again_one_by_one_so_only_the_faulty_item_fails() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test")
    recorder.gate.clear()
    blocker = committer.submit(0)
    assert recorder.entered.wait(timeout=10)
    good, bad, other = (committer.submit(item) for item in (7, -1, 8))
    recorder.gate.set()
    assert blocker.result(timeout=10) == 0
    assert (good.result(timeout=10), other.result(timeout=10)) == (70, 80)
    with pytest.raises(ValueError, match="negative"):
        bad.result(timeout=10)
    committer.close()
    assert recorder.batches == [[0], [7, -1, 8], [7], [-1], [8]]
    assert committer.figures.singles_after_failure == 3


def test_past_the_waiting_room_a_request_is_refused_at_once() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test", max_batch=1, max_waiting=2)
    recorder.gate.clear()
    running = committer.submit(1)
    assert recorder.entered.wait(timeout=10)
    waiting = [committer.submit(2), committer.submit(3)]
    with pytest.raises(CommitterBusy) as busy:
        committer.submit(4)
    assert busy.value.code == "api.overloaded"
    recorder.gate.set()
    assert [f.result(timeout=10) for f in [running, *waiting]] == [10, 20, 30]
    committer.close()


def test_close_finishes_what_waits_refusing_newcomers_until_it_is_done() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test")
    recorder.gate.clear()
    futures = [committer.submit(item) for item in (1, 2)]
    assert recorder.entered.wait(timeout=10)
    closer = threading.Thread(target=committer.close)
    closer.start()
    while closer.is_alive():
        try:
            committer.submit(3)
        except CommitterClosed:
            break
    else:
        pytest.fail("close() ended before a newcomer was refused")
    recorder.gate.set()
    closer.join(timeout=10)
    assert [future.result(timeout=10) for future in futures] == [10, 20]
    assert committer.run(4) == 40  # started again, as an app's next lifespan would
    committer.close()


def test_a_cancelled_request_is_still_carried_out_and_the_others_answered() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test")
    recorder.gate.clear()
    blocker = committer.submit(0)
    assert recorder.entered.wait(timeout=10)
    given_up, kept = committer.submit(5), committer.submit(6)
    assert given_up.cancel()
    recorder.gate.set()
    assert (blocker.result(timeout=10), kept.result(timeout=10)) == (0, 60)
    committer.close()
    assert recorder.batches == [[0], [5, 6]]


def test_coroutines_get_their_answers_and_errors_on_their_own_event_loop() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test")

    async def ask() -> tuple[list[int], str]:
        answers = await asyncio.gather(*(committer.submit_async(item) for item in (1, 2, 3)))
        with pytest.raises(ValueError, match="negative") as failed:
            await committer.submit_async(-4)
        return list(answers), str(failed.value)

    answers, failure = asyncio.run(ask())
    committer.close()
    assert answers == [10, 20, 30]
    assert "negative" in failure


def test_a_coroutine_that_gave_up_leaves_the_others_answered() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test")
    recorder.gate.clear()

    async def ask() -> int:
        blocker = committer.submit_async(0)
        while not recorder.entered.is_set():
            await asyncio.sleep(0.001)
        given_up, kept = committer.submit_async(5), committer.submit_async(6)
        given_up.cancel()
        recorder.gate.set()
        await blocker
        return await kept

    assert asyncio.run(ask()) == 60
    committer.close()
    assert recorder.batches == [[0], [5, 6]]
