"""Running checks from the command line: signals that stop a run, and the progress bar.

`SignalStop` turns SIGINT / SIGTERM into `StopFlag.set("interrupted (SIGINT)")` for the whole
run. Python runs a signal handler only when the main thread is back in bytecode, which a long
Z3 check is not; so the handler is backed by `signal.set_wakeup_fd` and a watchdog thread that
sets the flag (and with it interrupts every live Z3 context) the moment the signal arrives.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType
from typing import Any, Callable, TextIO

from verify.check.pipeline import CheckOptions, CheckResult, StopFlag, check_model
from verify.core.weights import ModelWeights
from verify.render.progress import ProgressBar

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalStop:
    """Within `with SignalStop() as stop:` SIGINT/SIGTERM set `stop.flag`; `stop.code` is then 130/143."""

    def __init__(self) -> None:
        self.flag = StopFlag()
        self.signal_number: int | None = None
        self._previous: dict[int, Any] = {}
        self._old_wakeup = -1
        self._pipe: tuple[int, int] | None = None
        self._watchdog: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def reason(self) -> str | None:
        return self.flag.reason

    @property
    def code(self) -> int | None:
        """128 + the signal once one arrived, else None."""
        return None if self.signal_number is None else 128 + self.signal_number

    def stop(self, signum: int) -> None:
        with self._lock:
            first = self.signal_number is None
            if first:
                self.signal_number = signum
        if first:
            self.flag.set(f"interrupted ({signal.Signals(signum).name})", signum)

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.stop(signum)

    def _watch(self, fd: int) -> None:
        while True:
            try:
                data = os.read(fd, 64)
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum in SIGNALS:
                    self.stop(signum)

    def __enter__(self) -> "SignalStop":
        if threading.current_thread() is not threading.main_thread():
            return self  # signals are only delivered to the main thread; nothing to install
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handler)
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        self._pipe = (read_fd, write_fd)
        try:
            self._old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except ValueError:
            self._old_wakeup = -1
        self._watchdog = threading.Thread(target=self._watch, args=(read_fd,), name="verify-signal-watch", daemon=True)
        self._watchdog.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._previous:
            return
        signal.set_wakeup_fd(self._old_wakeup)
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
        if self._pipe is not None:
            read_fd, write_fd = self._pipe
            os.close(write_fd)  # the watchdog reads EOF and ends
            if self._watchdog is not None:
                self._watchdog.join(timeout=1.0)
            os.close(read_fd)
            self._pipe = None


class Progress:
    """A progress line on stderr: regions, solver checks, elapsed / budget; at most 5 refreshes a second."""

    def __init__(self, enabled: bool, name: str, budget: float | None, stream: TextIO) -> None:
        self.last = 0.0
        self.budget = budget
        total = "no budget" if budget is None else _clock(budget)
        self.bar = ProgressBar(enabled, stream, name, " regions", total_text=total)

    def __call__(self, regions: int, checks: int) -> None:
        if not self.bar.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and regions == self.bar.count:
            return
        self.last = now
        self.bar.redraw(regions, f"{checks} solver checks")

    def close(self) -> None:
        self.bar.close()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def run_check_model(weights: ModelWeights, options: CheckOptions, *, jobs: int,
                    progress: Callable[[int, int], None] | None, stop: StopFlag | None) -> CheckResult:
    """check_model, sequential or over `jobs` processes, stoppable by `stop`.

    The process pool (verify.check.parallel) is imported only for jobs > 1: a sequential check
    does not pay for it at startup."""
    source = None
    if jobs != 1:  # region_source refuses jobs < 1
        from verify.check.parallel import region_source

        source = region_source(jobs, on_region=progress, stop=stop)
    return check_model(weights, options, on_region=progress, stop=stop, region_source=source)
