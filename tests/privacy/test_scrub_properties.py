"""Property tests of the erasure's masking: free text with the family's names, phone and
ID number embedded, typed with any spacing or separators between the characters, comes
out with none of them left — in memory, and as the database finds and masks it."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from broker.erasure import scrub
from broker.erasure.subjects import Subject
from broker.platform import db
from models import Household
from tests.support import money

NEEDLES = ["王小军", "李秀英", "13912345678", "110108198503121233"]
SEPARATORS = " -._/·\t"
FILLER = "一二三四五六七八九十的了在是有和这中大为上个，。；：（）abcXYZ"


@st.composite
def spelled(draw: st.DrawFn, needle: str) -> str:
    """``needle`` with a run of separators (maybe none) between any two characters."""
    gaps = [draw(st.text(alphabet=SEPARATORS, max_size=2)) for _ in needle[1:]]
    return needle[0] + "".join(g + c for g, c in zip(gaps, needle[1:], strict=True))


@st.composite
def descriptions(draw: st.DrawFn) -> str:
    """Filler text with some of the needles embedded, each spelled its own way."""
    parts = [draw(st.text(alphabet=FILLER, max_size=12))]
    for needle in draw(st.lists(st.sampled_from(NEEDLES), min_size=1, max_size=6)):
        parts += [draw(spelled(needle)), draw(st.text(alphabet=FILLER, max_size=12))]
    return "".join(parts)


def _named(text: str) -> list[str]:
    """The needles still present once every separator is taken out of ``text``."""
    squeezed = re.sub(f"[{re.escape(SEPARATORS)}]", "", text)
    return [n for n in NEEDLES if n in squeezed]


SUBJECT = Subject(household_id=0, member_ids=[], needles=NEEDLES)


@settings(max_examples=2000, deadline=None)
@given(descriptions())
def test_no_needle_survives_masking(text):
    """Thousands of generated descriptions: after masking, no name, phone or ID number
    is left, however it was spaced, and the filler around it is kept."""
    masked = SUBJECT.mask(text)
    assert _named(masked) == []
    assert [masked.count(c) for c in FILLER] == [text.count(c) for c in FILLER]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=descriptions())
def test_the_database_finds_and_masks_what_python_does(text):
    """The database's regular expression (SQLite's REGEXP, PostgreSQL's ~) finds every
    spelling the Python one does: a household's notes scrubbed in the database name no one."""
    session = db.session()
    household = session.execute(select(Household).limit(1)).scalar_one_or_none() or money.household(session)
    household.notes = text
    session.flush()
    counts = scrub.scrub_tables(session, SUBJECT, erasure_id=0, tables=frozenset({"households"}))
    session.expire(household)
    assert counts["households.notes"] == 1
    assert _named(household.notes) == []
    db.session.rollback()
