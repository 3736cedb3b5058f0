"""The practice rooms of the simulation drill (模拟演练, R-U2): each room is a whole hongbao of
its own — the normal services and HTTP API, the shipped recall policy, the demo population
with play money — over its own SQLite file in a temporary folder and a clock that moves only
when the person presses a button. Nothing in a room can reach the real store: the room opens
its own database, signs its own tokens with a secret of its own and verifies with the
simulated provider only (no real SMS is ever sent).

Rooms are bounded: one per signed-in person (a new one replaces theirs), at most ``max_rooms``
live at once, each for ``lifetime_us`` of real time and ``max_actions`` actions; an expired
room is closed and its folder deleted the next time any room is asked for."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from hongbao.bootstrap import DEMO_SIMULATOR_KEY, policy_store, services_for
from hongbao.entrypoints.http.auth.tokens import Role, TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.web.calls import ApiCalls, Reply
from hongbao.entrypoints.worker import build_relay, build_scheduler, run_pass
from hongbao.identity.verification import SimulatedProvider
from hongbao.platform.clock import (
    MICROSECONDS_PER_SECOND,
    Clock,
    ManualClock,
    from_datetime,
    to_datetime,
)
from hongbao.platform.i18n import Language
from hongbao.storage.factory import open_database

BEIJING: Final = ZoneInfo("Asia/Shanghai")
ROOM_COOKIE: Final = "hongbao_drill"
OPERATOR: Final = "drill-operator"
TOKEN_SECONDS: Final = 300
KEPT_KEYS: Final = 64  # the clock buttons' keys a room remembers, so a double press moves once
# Who plays whom: the person practises as 李伟 on an iPhone; two friends claim on command.
PLAYER: Final = ("li-wei", "li-wei-iphone14pro", "sim-li-wei-1")
FRIENDS: Final = {
    "liu-yang": ("liu-yang-xiaomi13u", "sim-liu-yang-1"),
    "zhao-lei": ("zhao-lei-ipad", "sim-zhao-lei-ipad"),
}
PRACTICE_GROUP: Final = "xinghe-team"


class ClockMove(StrEnum):
    """The drill clock's buttons: each one brings a moment the rules care about."""

    JUMP_31_MINUTES = "jump_31_minutes"  # past a lucky packet's 30-minute remainder window
    SET_23_55 = "set_23_55"  # inside the nightly settlement blackout (23:50-00:10)
    PASS_24_HOURS = "pass_24_hours"  # noqa: S105 - past a packet's 24-hour validity


@dataclass(frozen=True, slots=True)
class RoomLimits:
    max_rooms: int = 16
    lifetime_us: int = 30 * 60 * MICROSECONDS_PER_SECOND
    max_actions: int = 200
    max_packets: int = 20


class RoomsFull(Exception):
    """Every practice room is in use; the earliest frees itself at ``free_at_us``."""

    def __init__(self, free_at_us: int) -> None:
        super().__init__("every practice room is in use")
        self.free_at_us = free_at_us


class RoomWornOut(Exception):
    """The room has used up its actions or packets: start a new practice."""


def practice_start(real_now_us: int) -> int:
    """10:00 Beijing time on the real date: daytime, away from any nightly window, so every
    drill starts alike and the buttons bring the night when the person asks for it."""
    today = to_datetime(real_now_us).astimezone(BEIJING)
    return from_datetime(today.replace(hour=10, minute=0, second=0, microsecond=0))


def next_23_55(now_us: int) -> int:
    at = to_datetime(now_us).astimezone(BEIJING)
    target = at.replace(hour=23, minute=55, second=0, microsecond=0)
    if target <= at:
        target += timedelta(days=1)
    return from_datetime(target)


@dataclass
class Room:
    """One practice: its sandbox API, clock, folder, packets and the last thing that happened."""

    id: str
    owner: str  # who practises here (the console's signed-in person)
    folder: Path
    clock: ManualClock
    api: ApiContext
    app: FastAPI
    calls: ApiCalls
    expires_at_us: int
    packets: list[str] = field(default_factory=list)
    actions: int = 0
    pending: dict[str, Any] | None = None  # a recall waiting for its SMS code
    last: dict[str, Any] | None = None  # the last outcome, shown once at the top
    moved_keys: deque[str] = field(default_factory=lambda: deque(maxlen=KEPT_KEYS))

    def count(self, limits: RoomLimits) -> None:
        """One more action; past the room's allowance it refuses (a limit on everything)."""
        self.actions += 1
        if self.actions > limits.max_actions:
            raise RoomWornOut

    def token(self, who: str) -> str:
        """A short token for a person of the room (or its operator), signed by the room's own
        secret against the room's clock, which may have jumped a day since the last one."""
        now_us = self.clock.now_us()
        if who == OPERATOR:
            token, _ = self.api.signer.issue(
                who, Role.OPERATOR, now_us=now_us, lifetime_seconds=TOKEN_SECONDS
            )
            return token
        device = (PLAYER[1], PLAYER[2]) if who == PLAYER[0] else FRIENDS[who]
        token, _ = self.api.signer.issue(
            who, Role.USER, now_us=now_us, lifetime_seconds=TOKEN_SECONDS, device=device
        )
        return token

    async def call(
        self,
        method: str,
        path: str,
        *,
        who: str = PLAYER[0],
        language: Language,
        json: object | None = None,
        key: str | None = None,
    ) -> Reply:
        return await self.calls.call(
            method, path, token=self.token(who), language=language, json=json, key=key
        )

    def move_clock(self, move: ClockMove) -> None:
        """Move the room's clock forward, then let the room's worker do what became due
        (expiries refund their packets, refunds settle), as the real worker would."""
        now_us = self.clock.now_us()
        if move is ClockMove.JUMP_31_MINUTES:
            step_us = 31 * 60 * MICROSECONDS_PER_SECOND
        elif move is ClockMove.SET_23_55:
            step_us = next_23_55(now_us) - now_us
        else:
            step_us = 24 * 3600 * MICROSECONDS_PER_SECOND
        self.clock.advance(microseconds=step_us)
        services = self.api.services
        run_pass(services, build_scheduler(services), build_relay(services))

    def close(self) -> None:
        try:
            self.api.claims.close()
            self.api.operations.close()
            self.api.services.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def open_room(owner: str, real_now_us: int, lifetime_us: int) -> Room:
    """A new sandbox: its own SQLite file, the shipped policy, play money for the demo people."""
    # The app and its demo set-up import the console, which imports this module: asked for
    # when a room opens, not when the console loads.
    from hongbao.entrypoints.http.app import create_app  # noqa: PLC0415
    from hongbao.entrypoints.http.server import prepare_demo  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="hongbao-drill-"))
    try:
        clock = ManualClock(practice_start(real_now_us))
        database = open_database(f"sqlite:///{folder / 'drill.db'}", pool_size=2)
        provider = SimulatedProvider(DEMO_SIMULATOR_KEY.encode())  # never a real SMS gateway
        services = services_for(database, clock, policies=policy_store(), provider=provider)
        api = ApiContext(services, TokenSigner(secrets.token_bytes(32)), ApiSettings(docs=False))
        prepare_demo(api)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    app = create_app(api)
    return Room(
        id=secrets.token_hex(16),
        owner=owner,
        folder=folder,
        clock=clock,
        api=api,
        app=app,
        calls=ApiCalls(app),
        expires_at_us=real_now_us + lifetime_us,
    )


class DrillRooms:
    """The live rooms, by id, bounded in number and lifetime on the real clock."""

    def __init__(self, real_clock: Clock, limits: RoomLimits | None = None) -> None:
        self.real_clock = real_clock
        self.limits = limits or RoomLimits()
        self._rooms: dict[str, Room] = {}
        self._opening = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rooms)

    def find(self, room_id: str | None) -> Room | None:
        self._close_expired()
        if room_id is None:
            return None
        with self._lock:
            return self._rooms.get(room_id)

    def open(self, owner: str) -> Room:
        """A new room for ``owner``, closing the one they had (blocking: it migrates a fresh
        database), or RoomsFull. A room being opened holds its place, so two openings at once
        cannot pass the bound."""
        self._close_expired()
        with self._lock:
            theirs = [room_id for room_id, room in self._rooms.items() if room.owner == owner]
        for room_id in theirs:
            self.close(room_id)
        now_us = self.real_clock.now_us()
        with self._lock:
            if len(self._rooms) + self._opening >= self.limits.max_rooms:
                ends = [room.expires_at_us for room in self._rooms.values()]
                raise RoomsFull(min(ends, default=now_us + self.limits.lifetime_us))
            self._opening += 1
        try:
            room = open_room(owner, now_us, self.limits.lifetime_us)
        finally:
            with self._lock:
                self._opening -= 1
        with self._lock:
            self._rooms[room.id] = room
        return room

    def close(self, room_id: str) -> None:
        with self._lock:
            room = self._rooms.pop(room_id, None)
        if room is not None:
            room.close()

    def close_all(self) -> None:
        for room_id in list(self._rooms):
            self.close(room_id)

    def _close_expired(self) -> None:
        now_us = self.real_clock.now_us()
        with self._lock:
            expired = [
                room_id for room_id, room in self._rooms.items() if room.expires_at_us <= now_us
            ]
        for room_id in expired:
            self.close(room_id)


def beijing_time(at_us: int) -> str:
    return datetime.strftime(to_datetime(at_us).astimezone(BEIJING), "%Y-%m-%d %H:%M")
