"""What a partner may learn about a household: no identity numbers, ever, and the
family's names only when the household consented to share them."""

from __future__ import annotations

import re

# 18-character resident IDs (17 digits and a check character) and the old 15-digit ones,
# wherever a caseworker may have typed one into free text — also run on to a letter, as in
# "ID110105…" or "身份证号110105…号": only a longer run of digits is not an ID.
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")
ID_PLACEHOLDER = "[ID number removed]"


def redact(text: str | None) -> str:
    """Free text with anything shaped like an identity number replaced."""
    return _ID_NUMBER.sub(ID_PLACEHOLDER, text or "")


def household_label(head_name: str, consented: bool) -> str:
    """ "张** household" unless the household agreed to share its names."""
    name = (head_name or "").strip()
    if not name:
        return "household"
    if consented:
        return f"{name} household"
    return f"{name[0]}{'*' * max(1, len(name) - 1)} household"
