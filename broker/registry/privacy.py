"""What a partner may learn about a household: no identity numbers, ever, and the
family's names only when the household consented to share them. Free text is masked by
:mod:`.redaction` (the family's names and address, phone, ID and bank card numbers);
which fields each recipient gets at all is :mod:`.disclosure`."""

from __future__ import annotations

from typing import Any

from pypinyin import lazy_pinyin

from broker.platform.texts import N_, define, render
from broker.registry import redaction
from broker.registry.redaction import ID_PLACEHOLDER, Known

__all__ = ["ID_PLACEHOLDER", "Known", "household_label", "household_name", "redact", "said", "shown", "shown_to_staff"]
_PLACEHOLDER_CODES = {
    redaction.ID_PLACEHOLDER: "privacy.id_removed",
    redaction.PHONE_PLACEHOLDER: "privacy.phone_removed",
    redaction.CARD_PLACEHOLDER: "privacy.card_removed",
    redaction.NUMBER_PLACEHOLDER: "privacy.number_removed",
    redaction.NAME_PLACEHOLDER: "privacy.name_removed",
    redaction.ADDRESS_PLACEHOLDER: "privacy.address_removed",
}
define(
    {
        "privacy.id_removed": N_("[ID number removed]"),
        "privacy.phone_removed": N_("[phone number removed]"),
        "privacy.card_removed": N_("[card number removed]"),
        "privacy.number_removed": N_("[number removed]"),
        "privacy.name_removed": N_("[name removed]"),
        "privacy.address_removed": N_("[address removed]"),
        # English spells the name in pinyin, Chinese writes it: the msgid carries the
        # Chinese name at zero width (%(name).0s) so that the catalogue may use it.
        "household.named": N_("%(latin)s household%(name).0s"),
        "household.unnamed": N_("a household"),
    }
)


def redact(text: str | None, known: Known | None = None) -> str:
    """Free text with every phone, ID and bank card number replaced and, given what the
    broker knows of the household (``known``), its members' names and its address."""
    return redaction.redact(text, known)


def shown_to_staff(text: str | None) -> str:
    """Free text for those who see the whole household (its caseworkers, auditors):
    only ID numbers masked, the placeholder in the reader's language."""
    return said(redaction.mask_id_numbers(text))


def household_label(head_name: str, consented: bool) -> str:
    """ "张** household" unless the household agreed to share its names."""
    name = (head_name or "").strip()
    if not name:
        return "household"
    if consented:
        return f"{name} household"
    return f"{name[0]}{'*' * max(1, len(name) - 1)} household"


def said(redacted: str) -> str:
    """Text already redacted, its placeholders said in the reader's language."""
    for placeholder, code in _PLACEHOLDER_CODES.items():
        if placeholder in redacted:
            redacted = redacted.replace(placeholder, render(code))
    return redacted


def shown(text: str | None, known: Known | None = None) -> str:
    """Redacted free text for a reader: the placeholders said in their language."""
    return said(redact(text, known))


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
