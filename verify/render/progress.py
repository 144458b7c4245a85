"""The one progress bar: a tqdm line on stderr (or nothing when disabled), for checks and training.

It only draws; what to count and how often is the caller's. `total_text` is written where tqdm
would put a total (e.g. a time budget), so that a check shows "elapsed of budget".
"""

from __future__ import annotations

from typing import Any, TextIO


class ProgressBar:
    def __init__(self, enabled: bool, stream: TextIO, desc: str, unit: str, *, total_text: str | None = None) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            fmt = None if total_text is None else "{desc}: {n}" + unit + " [{elapsed} of " + total_text + "]{postfix}"
            self.bar = tqdm(desc=desc, unit=unit, leave=False, file=stream, mininterval=0.2,
                            **({} if fmt is None else {"bar_format": fmt}))

    @property
    def enabled(self) -> bool:
        return self.bar is not None

    @property
    def count(self) -> int:
        return 0 if self.bar is None else int(self.bar.n)

    def redraw(self, count: int, postfix: str) -> None:
        """Set the bar to `count` with `postfix` and draw it now (the caller throttles)."""
        if self.bar is not None:
            self.bar.n = count
            self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.refresh()

    def advance(self, count: int, total: int, postfix: str | None = None) -> None:
        """Move the bar to `count` of `total`; tqdm draws at most 5 times a second."""
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(count - self.bar.n)
            if postfix is not None:
                self.bar.set_postfix_str(postfix, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
