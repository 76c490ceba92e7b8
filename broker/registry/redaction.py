"""Free text made safe to leave the broker: what a caseworker typed about a family
(a need's description, notes, visit findings) with the family's own names and address,
and any phone, identity or bank card number, masked.

Numbers are found on a copy of the text in which every character is folded on its own
(NFKC: full-width digits and letters, circled digits, full-width punctuation become
ASCII) and zero-width characters are treated as separators, so that ``１３９ 1234-5678``
or ``1101 0819 8503 1212 33`` is found as one number; the spans found are then masked in
the original text, which keeps its own characters everywhere else. A run of digits joined
by up to three separators (spaces, dashes, dots, slashes, brackets, commas…) is masked
when it holds seven digits or more, except a date or an amount written with thousands
separators: every phone (landline or mobile, with or without +86), ID (15 or 18, with X)
and bank card number (16–19) is that long, and an amount or a count in a description
rarely is. The broker knows the family, so its names are masked exactly — the full name,
the given name alone (two characters or more), the surname with a form of address
(王先生, 老王), and the name in pinyin — and so is its address and its parts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import lazy_pinyin

from broker.registry import identity

ID_PLACEHOLDER = "[ID number removed]"
PHONE_PLACEHOLDER = "[phone number removed]"
CARD_PLACEHOLDER = "[card number removed]"
NUMBER_PLACEHOLDER = "[number removed]"
NAME_PLACEHOLDER = "[name removed]"
ADDRESS_PLACEHOLDER = "[address removed]"
PLACEHOLDERS = (
    ID_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    CARD_PLACEHOLDER,
    NUMBER_PLACEHOLDER,
    NAME_PLACEHOLDER,
    ADDRESS_PLACEHOLDER,
)

# Characters that may stand between the digits of one number.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
_SEP_CHARS = r"\s\-‐‑‒–—―_.·•/\\,、|:()\[\]*#~'\"" + _INVISIBLE
_SEP = f"[{_SEP_CHARS}]"
_NUMBER = re.compile(rf"\+?\d(?:{_SEP}{{0,3}}\d)*[Xx]?")
_DATE = re.compile(r"(?:19|20)\d\d([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])")
_AMOUNT = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?")
_MIN_DIGITS = 7

# Forms of address after a surname (王先生, 王阿姨) and before it (老王, 小王).
_TITLES_AFTER = (
    "先生",
    "女士",
    "小姐",
    "太太",
    "阿姨",
    "叔叔",
    "大爷",
    "大妈",
    "大娘",
    "大姐",
    "大哥",
    "奶奶",
    "爷爷",
    "老师",
    "师傅",
    "老太",
    "老汉",
    "婶",
    "姐",
    "哥",
    "伯",
    "叔",
    "家",
    "某",
)
_TITLES_BEFORE = ("老", "小", "阿")
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "司徒")
# Where a Chinese address breaks into parts: 省 市 区 县 街道 路 号 栋 单元 室 …
_ADDRESS_BREAK = re.compile(r"(?<=[省市区县镇乡村组路街巷弄道号栋幢楼院单元室层])")
_STREET_LEVEL = ("路", "街", "巷", "弄", "道", "村", "组", "号", "栋", "幢", "楼", "院", "元", "室", "层")
_DOOR = re.compile(r"\d+\s*(?:号楼|号院|号|栋|幢|单元|室|层|楼)(?:\s*\d+\s*(?:号楼|号院|号|栋|幢|单元|室|层|楼))+")


@dataclass(frozen=True)
class Known:
    """What the broker knows about one household that must not leave in free text."""

    names: tuple[str, ...] = ()
    address: str = ""


def _fold(text: str) -> str:
    """NFKC per character, so that positions in the folded copy are those of the text."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _number_spans(folded: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _NUMBER.finditer(folded):
        raw = m.group()
        digits = re.sub(r"[^\dXx]", "", raw)
        digits = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in digits)
        count = sum(c.isdigit() for c in digits)
        if count < _MIN_DIGITS or _DATE.fullmatch(raw) or (count <= 9 and _AMOUNT.fullmatch(raw)):
            continue
        spans.append((m.start(), m.end(), _kind(digits)))
    return spans


def mask_id_numbers(text: str | None) -> str:
    """Only the ID numbers in ``text`` masked: what staff who see the whole household
    read in its notes (phones and names are theirs to see, ID numbers stay masked)."""
    text = text or ""
    spans = [s for s in _number_spans(_fold(text)) if s[2] == ID_PLACEHOLDER]
    return _replace(text, spans)


def _holds_id(bare: str) -> bool:
    """Whether 18 characters in a row of ``bare`` form a resident ID (its check character
    right): a number run on to other digits is still an ID number."""
    for i in range(len(bare) - 17):
        window = bare[i : i + 18]
        if window[:17].isdigit() and identity.check_char(window[:17]) == window[17]:
            return True
    return False


def _kind(digits: str) -> str:
    bare = digits.upper()
    if len(bare) > 18 and _holds_id(bare):
        return ID_PLACEHOLDER
    if bare.startswith("86") and len(bare) == 13:
        bare = bare[2:]
    if len(bare) in (15, 18) or (len(bare) == 18 and bare.endswith("X")):
        return ID_PLACEHOLDER
    if (len(bare) == 11 and bare.startswith("1")) or (bare.startswith("0") and 10 <= len(bare) <= 12):
        return PHONE_PLACEHOLDER
    if 16 <= len(bare) <= 19:
        return CARD_PLACEHOLDER
    if 7 <= len(bare) <= 8:
        return PHONE_PLACEHOLDER
    return NUMBER_PLACEHOLDER


def _surname(name: str) -> str:
    return name[:2] if name[:2] in _COMPOUND_SURNAMES else name[:1]


def _spaced(word: str) -> str:
    """A pattern for ``word`` with spaces or invisible characters allowed between its characters."""
    return rf"[\s{_INVISIBLE}]*".join(re.escape(c) for c in word)


def name_patterns(names: Iterable[str]) -> list[str]:
    """Every way the text may name one of ``names`` (longest forms first)."""
    forms: set[str] = set()
    latin: set[str] = set()
    for raw in names:
        name = re.sub(rf"[\s{_INVISIBLE}·•]", "", unicodedata.normalize("NFKC", raw or ""))
        if len(name) < 2:
            continue
        forms.add(name)
        surname = _surname(name)
        given = name[len(surname) :]
        if len(given) >= 2:
            forms.add(given)
        if len(given) >= 1 and all("\u4e00" <= c <= "\u9fff" for c in name):
            forms.update(surname + t for t in _TITLES_AFTER)
            forms.update(t + surname for t in _TITLES_BEFORE)
            syllables = lazy_pinyin(name)
            sur = "".join(lazy_pinyin(surname))
            giv = "".join(syllables[len(surname) :])
            latin.update({f"{sur} {giv}", f"{giv} {sur}", f"{sur}{giv}"})
    patterns = [_spaced(f) for f in sorted(forms, key=len, reverse=True)]
    patterns += [r"\b" + r"[\s\-]*".join(re.escape(p) for p in w.split(" ")) + r"\b" for w in latin if len(w) > 3]
    return patterns


def address_patterns(address: str) -> list[str]:
    """The household's address whole, and every run of two or more of its parts (split
    after 省 市 区 街道 路 号 栋 室 …) that reaches down to a road, a number or a door:
    "幸福路12号", "3栋201室" — not "北京市朝阳区", which names no one."""
    folded = re.sub(rf"[\s{_INVISIBLE}]", "", unicodedata.normalize("NFKC", address or ""))
    if len(folded) < 4:
        return []
    parts = [p for p in _ADDRESS_BREAK.split(folded) if p]
    runs = {folded}
    for i in range(len(parts)):
        for j in range(i + 2, len(parts) + 1):
            run = parts[i:j]
            if len("".join(run)) >= 4 and any(p.endswith(_STREET_LEVEL) for p in run):
                runs.add("".join(run))
    return [_spaced(t) for t in sorted(runs, key=len, reverse=True)]


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        if out and start < out[-1][1]:
            prev = out[-1]
            out[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            out.append((start, end, label))
    return out


def redact(text: str | None, known: Known | None = None) -> str:
    """``text`` with the family's names and address, and every phone, ID and bank card
    number, replaced by a placeholder (:data:`PLACEHOLDERS`)."""
    text = text or ""
    if not text:
        return ""
    folded = _fold(text)
    spans = _number_spans(folded)
    known = known or Known()
    for label, patterns in (
        (NAME_PLACEHOLDER, name_patterns(known.names)),
        (ADDRESS_PLACEHOLDER, address_patterns(known.address)),
    ):
        if patterns:
            spans += [(m.start(), m.end(), label) for m in re.finditer("|".join(patterns), folded, re.IGNORECASE)]
    spans += [(m.start(), m.end(), ADDRESS_PLACEHOLDER) for m in _DOOR.finditer(folded)]
    return _replace(text, spans)


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, at = [], 0
    for start, end, label in _merge(spans):
        out.append(text[at:start])
        out.append(label)
        at = end
    out.append(text[at:])
    return "".join(out)
