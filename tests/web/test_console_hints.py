"""Guidance bubbles (R-U2): the three named hints, each shown once per person, dismissible,
and counted as metrics (shown, dismissed, clicked)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import Console
from tests.web.test_console_pages import LI_WEI, sending_lucky

MIDNIGHT_US = 1_796_140_800_000_000  # 2026-12-02 00:00 Beijing time


def bubbles(page: str) -> list[str]:
    return [part.split('"', 1)[0] for part in page.split('data-hint="')[1:]]


def metric(console: Console, hint: str, event: str) -> float:
    metrics = console.context.operations.metrics
    return float(metrics.hints.labels(hint, event)._value.get())


def test_the_lucky_packet_hint_is_shown_once_per_person(console: Console) -> None:
    """After sending a lucky packet the sender meets the 30-minute hint once; the next packet
    page shows none, on this device or another."""
    li_wei = console.person(*LI_WEI)
    first = sending_lucky(li_wei)
    assert bubbles(first.text) == ["lucky_recall"]
    assert "30" in first.text
    assert bubbles(li_wei.get(first.url.path).text) == []
    assert bubbles(sending_lucky(li_wei, "6.66").text) == []
    assert metric(console, "lucky_recall", "shown") == 1


def test_a_watch_shows_the_200_yuan_cap(console: Console) -> None:
    """Signed in on the watch, the wallet (the first page) shows the cap; the send form after
    it does not repeat it."""
    watch = TestClient(console.app)  # type: ignore[arg-type]
    page = watch.post("/console/sign-in", data={"device": "li-wei/li-wei-watch"}).text
    assert bubbles(page) == ["watch_cap"]
    assert "200" in page
    assert bubbles(watch.get("/send").text) == []
    assert bubbles(console.person(*LI_WEI).get("/send").text) == []  # met once, on any device


def test_the_settlement_hint_appears_near_23_50(console: Console) -> None:
    # The fixture's clock reads 14:00; move it to 23:45 the same day.
    console.clock.advance(microseconds=MIDNIGHT_US - 15 * 60 * 1_000_000 - console.clock.now_us())
    console.person(*LI_WEI)
    assert bubbles(console.landing) == ["settlement"]
    assert "23:50" in console.landing


def test_dismissing_and_following_a_hint_are_counted_once(console: Console) -> None:
    watch = console.person("li-wei", "li-wei-watch")
    watch.get("/send")
    for _ in range(2):
        assert (
            watch.post("/console/hints/watch_cap", json={"event": "dismissed"}).status_code == 200
        )
    watch.post("/console/hints/watch_cap", json={"event": "clicked"})
    assert metric(console, "watch_cap", "dismissed") == 1
    assert metric(console, "watch_cap", "clicked") == 1
    seen = watch.get("/wallet")
    assert seen.status_code == 200
    assert bubbles(seen.text) == []


def test_an_unknown_event_is_refused(console: Console) -> None:
    watch = console.person("li-wei", "li-wei-watch")
    assert watch.post("/console/hints/watch_cap", json={"event": "liked"}).status_code == 422
