r"""What :func:`bplib.train.fit` shows while it trains (``progress=True``).

A ``tqdm.auto`` bar on stdout (a widget in Jupyter) when tqdm is installed; without it, a
plain line every ``ceil(epochs / PLAIN_PROGRESS_LINES)`` epochs and for the last epoch run;
then one line that says whether training stopped early and why.
"""

from __future__ import annotations

import math
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .callbacks import History

__all__ = ["PLAIN_PROGRESS_LINES", "Progress", "progress_enabled"]


def progress_enabled(progress: bool) -> bool:
    """``progress``, unless the environment variable ``BPLIB_PROGRESS`` is 0/false/no/off."""
    env = os.environ.get("BPLIB_PROGRESS", "").strip().lower()
    return bool(progress) and env not in {"0", "false", "no", "off"}


PLAIN_PROGRESS_LINES = 10
"""Without tqdm, ``fit`` prints a line every ``ceil(epochs / PLAIN_PROGRESS_LINES)`` epochs."""


class Progress:
    """What ``fit`` shows on stdout: a ``tqdm.auto`` bar (a widget in Jupyter); without
    tqdm, a plain line every ``every`` epochs and for the last epoch run; then a line that
    says whether training stopped early. Nothing when ``show`` is false."""

    def __init__(self, epochs: int, show: bool) -> None:
        self.epochs, self.bar, self.plain = epochs, None, False
        self.every = max(1, math.ceil(epochs / PLAIN_PROGRESS_LINES))
        if not show:
            return
        try:  # imported only when a bar is shown: `import bplib` stays numpy-only
            from tqdm.auto import tqdm
        except ModuleNotFoundError:  # tqdm is optional (pip install "bplib-book[progress]")
            self.plain = True
            return
        # updated by hand (not iterated), so that it is still open to show why training stopped
        self.bar = tqdm(total=epochs, desc="fit", unit="epoch", dynamic_ncols=True, file=sys.stdout)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    @staticmethod
    def _latest(history: History) -> dict[str, str]:
        shown = {"loss": f"{history.loss[-1]:.4f}"}
        if history.val_loss:
            shown["val_loss"] = f"{history.val_loss[-1]:.4f}"
        return shown

    def epoch_end(self, epoch: int, history: History, last: bool) -> None:
        """After each epoch; ``last`` when training stops after it."""
        shown = self._latest(history)
        if self.bar is not None:
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(1)
        elif self.plain and (epoch % self.every == 0 or epoch == self.epochs or last):
            values = ", ".join(f"{k}={v}" for k, v in shown.items())
            print(f"fit: epoch {epoch}/{self.epochs}, {values}", flush=True)

    def end(self, history: History) -> None:
        """The last words: all epochs run, or stopped early after which epoch and why."""
        if history.stopped_epoch < self.epochs:
            words = f"stopped early after epoch {history.stopped_epoch} of {self.epochs}: "
            words += history.stop_reason
        else:
            words = f"finished all {self.epochs} epoch{'s' if self.epochs != 1 else ''}"
            if history.stop_reason != f"reached epochs={self.epochs}":
                words += f" ({history.stop_reason})"
        if self.bar is not None:
            values = ", ".join(f"{k}={v}" for k, v in self._latest(history).items())
            self.bar.set_postfix_str(f"{values}; {words}")
        elif self.plain:
            print(f"fit: {words}", flush=True)
