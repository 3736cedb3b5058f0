"""The active policy, reloaded when its file changes, and an optional shadow policy.

A changed file that does not validate never replaces the active policy: the last good one
stays in force, the error is kept in ``last_error`` (and logged) for operators, and the next
valid change is picked up. A shadow policy is evaluated beside the active one and recorded,
never acted on, so an operator can see what a new policy would decide before switching.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from hongbao.policy.document import Policy, PolicyError, default_policy, load_policy
from hongbao.policy.errors import PolicyCode

logger = logging.getLogger(__name__)


@dataclass
class _Watched:
    path: Path | None
    policy: Policy
    stamp: tuple[int, int] | None = None
    last_error: PolicyError | None = None

    def refresh(self) -> Policy:
        if self.path is None:
            return self.policy
        try:
            status = self.path.stat()
        except OSError as error:
            self._keep(
                PolicyError(f"cannot read policy {self.path}: {error}", code=PolicyCode.UNREADABLE)
            )
            return self.policy
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp != self.stamp:
            try:
                self.policy = load_policy(self.path)
                self.last_error = None
            except PolicyError as error:
                self._keep(error)
            self.stamp = stamp
        return self.policy

    def _keep(self, error: PolicyError) -> None:
        self.last_error = error
        logger.warning(
            "policy %s refused, %s stays active: %s", self.path, self.policy.version, error
        )


@dataclass
class PolicyStore:
    """``active()`` is the policy decisions act on; ``shadow()`` the one only recorded."""

    _active: _Watched
    _shadow: _Watched | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, path: Path | None = None, shadow_path: Path | None = None) -> PolicyStore:
        """Load both now: a policy that does not validate at start-up is an error, not a warning."""
        active = _Watched(path, load_policy(path))
        shadow = _Watched(shadow_path, load_policy(shadow_path)) if shadow_path else None
        store = cls(active, shadow)
        store.active()
        return store

    @classmethod
    def fixed(cls, policy: Policy | None = None, shadow: Policy | None = None) -> PolicyStore:
        """A store that never reloads (tests, drills, a policy built in code)."""
        return cls(
            _Watched(None, policy or default_policy()), _Watched(None, shadow) if shadow else None
        )

    def active(self) -> Policy:
        with self._lock:
            return self._active.refresh()

    def shadow(self) -> Policy | None:
        with self._lock:
            return self._shadow.refresh() if self._shadow else None

    @property
    def last_error(self) -> PolicyError | None:
        return self._active.last_error
