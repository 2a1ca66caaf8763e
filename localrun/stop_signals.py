"""SIGINT and SIGTERM as one request to stop, however many arrive and whenever they arrive.

`make run` used to stop on `threading.Event.set()` called from its signal handlers. `Event.set` takes the
event's lock (a plain, non-reentrant one); Python runs signal handlers in the main thread between bytecodes,
so a second signal arriving while the first handler held that lock ran the handler again inside it, and the
second `set` waited forever for a lock its own thread held: the process hung on the second Ctrl+C or SIGTERM.

Here the Python handler does nothing at all: it takes no lock and raises nothing (a KeyboardInterrupt raised
inside a `with` block's exit would leave half a teardown). The interpreter's C handler writes each signal's
number to a socket (`signal.set_wakeup_fd`), and `wait` reads it there. Signals that arrive during startup or
teardown are noticed (or ignored) the same way, so no number of them can interrupt either.
"""

from __future__ import annotations

import select
import signal
import socket
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _noted(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing (the wakeup socket already has the signal's number)."""


class StopSignals:
    """Catches SIGINT and SIGTERM from `install` on (main thread only); `wait` returns at the first one."""

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self.received: list[int] = []  # stop signals read so far, in order

    def install(self) -> StopSignals:
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            signal.signal(signum, _noted)
        return self

    def _read(self) -> None:
        try:
            data = self._reader.recv(4096)
        except BlockingIOError:
            return
        self.received.extend(number for number in data if number in STOP_SIGNALS)

    def requested(self) -> bool:
        """Whether a stop signal has arrived (without waiting)."""
        self._read()
        return bool(self.received)

    def wait(self, timeout: float | None = None) -> int | None:
        """The first stop signal's number, waiting up to `timeout` seconds for it (None: as long as it takes);
        None when none came in time."""
        while not self.requested():
            ready, _, _ = select.select([self._reader], [], [], timeout)
            if not ready:
                return None
        return self.received[0]

    def ignore_from_now_on(self) -> None:
        """Ignore further stop signals, to the process's very end: the interpreter puts back the default handlers
        of signals with a Python handler when it finalizes, and a signal then would end it as killed by it."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
