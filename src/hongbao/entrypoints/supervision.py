"""Processes that do not outlive their parent.

``hongbao serve --workers N`` is a supervisor whose API processes inherit its listening socket.
If the supervisor is killed outright (``kill -9``, the OOM killer), nothing tells them: they
would go on serving, orphaned, and hold the port so that a restart fails with "Address already
in use". Each API process therefore asks to be sent SIGTERM when its parent dies, and SIGTERM
is the ordinary graceful stop: the listener closes at once (so a restart can bind the port),
requests in flight finish within the shutdown timeout, then the process exits.

On Linux this is ``prctl(PR_SET_PDEATHSIG)``: the kernel sends the signal the moment the parent
dies, however it dies, with no thread in the child and nothing to poll, whereas a pipe from the
parent needs a watching thread and its write end kept out of every sibling, and polling
``getppid()`` notices late. Elsewhere a daemon thread polls ``getppid()``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from types import FrameType

SUPERVISOR_VARIABLE = "HONGBAO_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.5


def announce_supervisor() -> None:
    """In the supervisor, before it starts its processes: they learn their parent's pid from
    the environment they inherit."""
    os.environ[SUPERVISOR_VARIABLE] = str(os.getpid())


def supervisor_pid() -> int | None:
    """The supervisor this process was started by; None when there is none, or when this
    process is the supervisor itself (one API process is served in the supervisor's own)."""
    value = os.environ.get(SUPERVISOR_VARIABLE, "")
    if not value.isdigit() or int(value) == os.getpid():
        return None
    return int(value)


def die_with_parent(parent_pid: int, *, stop_signal: int = signal.SIGTERM) -> None:
    """In a child of ``parent_pid``: receive ``stop_signal`` when the parent dies. If it is
    already gone (it died between starting this process and this call), now."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, stop_signal, 0, 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    else:
        threading.Thread(
            target=_watch_parent, args=(parent_pid, stop_signal), name="hongbao-parent", daemon=True
        ).start()
    # The signal is asked for after the process started: a parent that died in between is
    # seen here, since this process then has another parent.
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), stop_signal)


def _watch_parent(parent_pid: int, stop_signal: int) -> None:
    stopped = threading.Event()
    while not stopped.wait(POLL_SECONDS):
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), stop_signal)
            return


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM ends this process as ``SystemExit(0)``, so its ``finally`` blocks run. uvicorn
    stops gracefully on SIGTERM and then raises the signal again for the handler it found, which
    by default would end the process at once, before the embedded worker and the database
    are closed."""

    def leave(_signal: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
