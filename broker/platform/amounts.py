"""Money as people read it. Amounts are integer fen everywhere; only text shows yuan."""

from __future__ import annotations


def yuan(fen: int | None) -> str:
    """``123456`` → ``¥1,234.56`` (no floats: fen are split with divmod)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"
