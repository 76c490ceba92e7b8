"""What a partner may learn about a household: no identity numbers, ever, and the
family's names only when the household consented to share them."""

from __future__ import annotations

import re
from typing import Any

from pypinyin import lazy_pinyin

from broker.platform.texts import N_, define, render

# 18-character resident IDs (17 digits and a check character) and the old 15-digit ones,
# wherever a caseworker may have typed one into free text — also run on to a letter, as in
# "ID110105…" or "身份证号110105…号": only a longer run of digits is not an ID.
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")
ID_PLACEHOLDER = "[ID number removed]"
define(
    {
        "privacy.id_removed": N_("[ID number removed]"),
        # English spells the name in pinyin, Chinese writes it: the msgid carries the
        # Chinese name at zero width (%(name).0s) so that the catalogue may use it.
        "household.named": N_("%(latin)s household%(name).0s"),
        "household.unnamed": N_("a household"),
    }
)


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


def shown(text: str | None) -> str:
    """Redacted free text for a reader: the placeholder said in their language."""
    return redact(text).replace(ID_PLACEHOLDER, render("privacy.id_removed"))


def household_name(head_name: str, consented: bool) -> dict[str, Any]:
    """The household as a partner may name it, as a text code: 王**家 / Wang** household
    (the head's name in full only if the household agreed to share its names). English
    readers get the name in pinyin, surname first, as it is written in Latin letters."""
    name = (head_name or "").strip()
    if not name:
        return {"code": "household.unnamed", "params": {}}
    stars = "*" * max(1, len(name) - 1)
    syllables = [s.capitalize() for s in lazy_pinyin(name, errors="default")]
    if consented:
        latin = syllables[0] + (" " + "".join(syllables[1:]).capitalize() if len(syllables) > 1 else "")
        return {"code": "household.named", "params": {"name": name, "latin": latin}}
    return {"code": "household.named", "params": {"name": f"{name[0]}{stars}", "latin": f"{syllables[0]}{stars}"}}
