"""Who an erasure is about, and every spelling of them it must find: names, the phone,
the address and identity numbers, also with spaces or separators typed between the
characters, and as a JSON column spells them with non-ASCII characters escaped."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.platform import security
from broker.platform.errors import NotFound
from broker.registry import privacy
from models import Household, Lead, Member

MASK = "***"
# What may stand between the characters of a number or a name typed into free text
# (one character class both Python's re and PostgreSQL's regular expressions read alike).
_GAP = r"[\s._/·-]*"
_MIN_LENGTH = 2  # a one-character needle would mask half of every text


@dataclass
class Subject:
    """The household, the members named, and the strings that identify them."""

    household_id: int
    member_ids: list[int]
    needles: list[str] = field(default_factory=list)

    def pattern(self) -> str:
        """One regular expression matching every needle, spaced or escaped."""
        parts: list[str] = []
        for needle in sorted({n for n in self.needles if len(n) >= _MIN_LENGTH}, key=len, reverse=True):
            parts.append(_GAP.join(re.escape(ch) for ch in needle if not ch.isspace()))
            escaped = json.dumps(needle)[1:-1]
            if escaped != needle:
                parts.append(re.escape(escaped))
        return "|".join(parts)

    def mask(self, value: Any, compiled: re.Pattern | None = None) -> Any:
        """``value`` (text, or a JSON document) with every match masked."""
        compiled = compiled or re.compile(self.pattern())
        if isinstance(value, str):
            return compiled.sub(MASK, value)
        if isinstance(value, list):
            return [self.mask(v, compiled) for v in value]
        if isinstance(value, dict):
            return {k: self.mask(v, compiled) for k, v in value.items()}
        return value


def _identity(member: Member) -> str | None:
    if member.id_number_enc is None:
        return None
    try:
        return security.decrypt(member.id_number_enc)
    except Exception:  # noqa: BLE001 — a number no key can read is no needle
        return None


def _lead_texts(session: Session, household_id: int) -> list[str]:
    """The address and the words of every lead that found the household, also as the audit
    trail kept them (redacted): a neighbour's description of a family is personal data
    even when it names nobody."""
    texts: list[str] = []
    for address, seen in session.execute(select(Lead.address, Lead.seen).where(Lead.household_id == household_id)):
        texts += [address, seen, privacy.redact(seen)]
    return texts


def subject_of(session: Session, *, household_id: int | None = None, member_id: int | None = None) -> Subject:
    """The subject of an erasure of one member, or of a whole household (every member,
    the head's name, the phone, the address and the leads that found it). A member who heads the household takes
    the household's phone with them; the address stays while others live there."""
    if member_id is not None:
        member = session.get(Member, member_id)
        if member is None:
            raise NotFound(f"Member {member_id} not found.", code="member_not_found")
        household = session.get(Household, member.household_id)
        members = [member]
    else:
        household = session.get(Household, household_id)
        if household is None:
            raise NotFound(f"Household {household_id} not found.", code="household_not_found")
        members = list(session.execute(select(Member).where(Member.household_id == household.id)).scalars())
    needles: list[str] = []
    for m in members:
        needles += [m.name, _identity(m) or ""]
    heads = member_id is None or members[0].name == household.head_name
    if heads:
        needles += [household.head_name, household.phone or ""]
    if member_id is None:
        needles.append(household.address)
        needles += _lead_texts(session, household.id)
    return Subject(household.id, [m.id for m in members], [n.strip() for n in needles if n and n.strip() != MASK])
