"""The device model and platform a request came from, for per-device figures (R-D4).

A user's token names their device (id and SIM); the registered device says its model and
platform. The lookup is one database read per device per process, then kept in a bounded cache
(least recently used dropped). Model names are free text set at registration, so the number of
distinct (model, platform) labels is bounded too: past ``max_labels`` new ones are counted as
``other`` rather than growing the metrics without end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Final

from hongbao.identity.devices import DeviceFingerprint
from hongbao.identity.errors import IdentityCode
from hongbao.identity.service import IdentityService
from hongbao.platform.errors import HongbaoError, Outcome
from hongbao.storage.unit_of_work import UnitOfWork

UNREGISTERED: Final = ("unregistered", "unknown")
OTHER: Final = ("other", "other")


class DeviceLabels:
    def __init__(
        self,
        identity: IdentityService[UnitOfWork],
        *,
        max_devices: int = 10_000,
        max_labels: int = 200,
    ) -> None:
        self._identity = identity
        self._max_devices = max_devices
        self._max_labels = max_labels
        self._cache: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()
        self._labels: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def cached(self, device_id: str, sim_id: str) -> tuple[str, str] | None:
        with self._lock:
            return self._cache.get((device_id, sim_id))

    def learn(self, device_id: str, sim_id: str, label: tuple[str, str]) -> tuple[str, str]:
        """Keep a label read elsewhere (a claim batch reads its callers' devices in bulk)."""
        bounded = self._bounded(label)
        with self._lock:
            self._cache[(device_id, sim_id)] = bounded
            if len(self._cache) > self._max_devices:
                self._cache.popitem(last=False)
        return bounded

    def of(self, device_id: str, sim_id: str) -> tuple[str, str]:
        key = (device_id, sim_id)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        label = self._bounded(self._look_up(device_id, sim_id))
        with self._lock:
            self._cache[key] = label
            if len(self._cache) > self._max_devices:
                self._cache.popitem(last=False)
        return label

    def _look_up(self, device_id: str, sim_id: str) -> tuple[str, str]:
        try:
            device = self._identity.device(DeviceFingerprint(device_id, sim_id))
        except HongbaoError as error:
            if isinstance(error.code, IdentityCode) and error.code.outcome is Outcome.NOT_FOUND:
                return UNREGISTERED
            raise
        return device.model, device.platform.value

    def _bounded(self, label: tuple[str, str]) -> tuple[str, str]:
        with self._lock:
            if label in self._labels:
                return label
            if len(self._labels) >= self._max_labels:
                return OTHER
            self._labels.add(label)
            return label


def labels_in(
    uow: UnitOfWork, devices: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """The labels of ``devices`` (id, SIM), read in ``uow`` in one statement: for callers whose
    label this process has not learned yet, read in their request's own transaction."""
    return send_labels_in(uow, devices)()


def send_labels_in(
    uow: UnitOfWork, devices: Sequence[tuple[str, str]]
) -> Callable[[], dict[tuple[str, str], tuple[str, str]]]:
    """``labels_in`` sent now and read later, with the request's other reads."""
    found = uow.identity.devices.read_many(list(devices))

    def read() -> dict[tuple[str, str], tuple[str, str]]:
        devices_found = found()
        labels = {}
        for key in devices:
            device = devices_found.get(key)
            labels[key] = UNREGISTERED if device is None else (device.model, device.platform.value)
        return labels

    return read
