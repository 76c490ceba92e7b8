"""How the broker's processes log (the web app, the RQ worker, RQ's cron, ``make run``):
our own ``broker.*`` loggers at INFO — one line per unit of real work, nothing when
idle — and every other library only from WARNING up, so that its routine chatter (RQ's
per-job lines, Alembic's plugin set-up, httpx's request lines) does not bury ours.
Warnings and errors carry their level (in colour on a terminal) so they stand out."""

from __future__ import annotations

import logging
import sys

_COLOURS = {logging.WARNING: "\x1b[33m", logging.ERROR: "\x1b[31m", logging.CRITICAL: "\x1b[1;31m"}
_RESET = "\x1b[0m"


class Formatter(logging.Formatter):
    """``HH:MM:SS logger: message`` for INFO; the level is named from WARNING up."""

    def __init__(self, colour: bool = False) -> None:
        super().__init__("%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno < logging.WARNING:
            return text
        stamp, rest = text.split(" ", 1)
        level = record.levelname
        if self.colour:
            level = f"{_COLOURS.get(record.levelno, '')}{level}{_RESET}"
        return f"{stamp} {level} {rest}"


def configure(level: int = logging.INFO) -> None:
    """Send ``broker.*`` records at ``level`` and everything else from WARNING up to
    stderr. Idempotent; leaves a process that already has a root handler its handler
    (pytest's, an operator's own configuration) and only sets the levels."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(Formatter(colour=sys.stderr.isatty()))
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("broker").setLevel(level)
    # RQ's command line gives its worker loggers handlers of their own before our code
    # runs: let them print their lines once, not a second time through ours.
    for name in ("rq.worker", "rq.job"):
        rq_logger = logging.getLogger(name)
        if rq_logger.handlers:
            rq_logger.propagate = False
