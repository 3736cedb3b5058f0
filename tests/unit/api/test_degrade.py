"""Degrade mode enters on thresholds and leaves with hysteresis, driven by recorded samples."""

from __future__ import annotations

from hongbao.entrypoints.ops.degrade import DegradeMonitor, DegradeThresholds

THRESHOLDS = DegradeThresholds(
    window_seconds=30,
    min_samples=10,
    p99_enter_seconds=0.25,
    p99_leave_seconds=0.10,
    outbox_lag_enter_seconds=30,
    outbox_lag_leave_seconds=5,
    overdue_enter=100,
    overdue_leave=10,
    min_degraded_seconds=10,
    evaluate_every_seconds=1,
)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def monitor() -> tuple[DegradeMonitor, FakeMonotonic, list[bool]]:
    time = FakeMonotonic()
    changes: list[bool] = []
    return DegradeMonitor(THRESHOLDS, time, changes.append), time, changes


def record(monitor: DegradeMonitor, seconds: float, count: int) -> None:
    for _ in range(count):
        monitor.record(seconds)
    monitor.evaluate()


def traffic(monitor: DegradeMonitor, time: FakeMonotonic, latency: float, seconds: int) -> None:
    """Ten money-path requests a second taking ``latency`` each, for ``seconds``."""
    for _ in range(seconds):
        time.now += 1
        for _ in range(10):
            monitor.record(latency)


def test_a_slow_money_path_enters_degrade_mode_and_a_fast_one_leaves_it_after_the_dwell() -> None:
    degrade, time, changes = monitor()
    traffic(degrade, time, 0.02, 40)
    assert not degrade.active
    record(degrade, 0.4, 5)  # 5 slow of 305 in the window: the p99 is slow
    state = degrade.evaluate()
    assert state.active
    assert degrade.defers_outbox()
    assert state.reasons == ("money-path p99 0.400 s >= 0.250 s",)
    traffic(degrade, time, 0.02, 29)
    assert degrade.active  # the slow samples are still in the window
    traffic(degrade, time, 0.02, 2)
    assert not degrade.active
    assert changes == [True, False]


def test_between_the_leave_and_the_enter_threshold_the_mode_stays_as_it_is() -> None:
    degrade, time, _ = monitor()
    traffic(degrade, time, 0.15, 40)  # under the enter threshold: not entered
    assert not degrade.active
    traffic(degrade, time, 0.3, 5)
    assert degrade.active
    traffic(degrade, time, 0.15, 40)  # under enter, over leave: stays
    assert degrade.active
    assert degrade.state().reasons == ("money-path p99 0.150 s >= 0.100 s",)
    traffic(degrade, time, 0.05, 40)
    assert not degrade.active


def test_the_mode_lasts_at_least_its_dwell_time_even_when_the_pressure_is_gone() -> None:
    degrade, time, _ = monitor()
    degrade.observe_backlog(outbox_lag_seconds=45, overdue=0)
    assert degrade.active
    assert not degrade.defers_outbox()  # the outbox is the pressure: keep delivering it
    degrade.observe_backlog(outbox_lag_seconds=0, overdue=0)
    assert degrade.active  # entered a moment ago
    time.now += 10
    degrade.observe_backlog(outbox_lag_seconds=0, overdue=0)
    assert not degrade.active


def test_overdue_due_work_enters_and_too_few_samples_say_nothing_about_a_p99() -> None:
    degrade, _, _ = monitor()
    record(degrade, 5.0, 9)  # under min_samples
    assert not degrade.active
    assert degrade.state().money_p99_seconds is None
    degrade.observe_backlog(outbox_lag_seconds=0, overdue=100)
    assert degrade.state().reasons == ("100 due work items overdue >= 100",)


def test_a_forced_mode_holds_until_released_and_defers_the_outbox() -> None:
    degrade, time, changes = monitor()
    degrade.force("peak expected at 20:00")
    assert degrade.active
    assert degrade.defers_outbox()
    assert degrade.state().reasons == ("forced: peak expected at 20:00",)
    time.now += 3_600
    assert degrade.evaluate().active
    degrade.release()
    assert not degrade.active
    assert changes == [True, False]


def test_the_window_keeps_a_bounded_number_of_samples() -> None:
    time = FakeMonotonic()
    degrade = DegradeMonitor(DegradeThresholds(max_samples=100, min_samples=1), time)
    record(degrade, 0.01, 1_000)
    assert degrade.state().samples == 100
