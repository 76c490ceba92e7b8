"""Language and formatting: Chinese by default, English on request (kept in the session
and on the user), money written ¥1,234.50 and read from yuan exactly, times shown in
Asia/Shanghai — and the catalogues: every string of the portal translated to Chinese,
and the compiled .mo files in step with their .po."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from broker.platform import db
from broker.portal import i18n
from models import User

PORTAL = Path(__file__).resolve().parents[2] / "broker" / "portal"
CATALOGUES = PORTAL / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def _extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PORTAL), METHODS, keywords=KEYWORDS, options_map={}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_portal_string_is_translated_to_chinese():
    """Each string the templates and views pass through gettext has a Chinese translation
    in the zh_CN catalogue (run `make translations` and translate what it adds)."""
    with (CATALOGUES / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale="zh_CN")
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted() - translated)
    assert missing == []


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_compiled_catalogues_match_their_sources(locale):
    """The committed .mo holds exactly what its .po says (run `make translations` after editing a .po)."""
    folder = CATALOGUES / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as fh:
        po = {m.id: m.string for m in read_po(fh) if m.id and m.string and not m.fuzzy}
    with (folder / "messages.mo").open("rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert mo == po


def test_language_switch_is_kept_in_the_session_and_on_the_user(new_portal, make_user):
    """Switching to English changes the pages, is remembered on the user, and follows
    them into a new browser; switching back gives Chinese again."""
    username = make_user("auditor")
    first = new_portal()
    first.login(username)
    assert "总览" in first.text("/auditor/")
    first.get("/auditor/")
    resp = first.post("/language", {"locale": "en", "next": "/auditor/"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/auditor/"
    html = first.text("/auditor/")
    assert '<html lang="en">' in html
    assert "Dashboard" in html
    assert "总览" not in html
    db.session.remove()
    assert db.session().query(User).filter_by(username=username).one().locale == "en"
    second = new_portal()
    second.login(username)
    assert "Dashboard" in second.text("/auditor/")
    second.post("/language", {"locale": "zh_CN"})
    assert "总览" in second.text("/auditor/")


def test_unknown_language_is_ignored(portal):
    """An unknown locale leaves the page in Chinese and goes nowhere else."""
    portal.get("/login")
    resp = portal.post("/language", {"locale": "xx", "next": "https://evil.example/"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    assert '<html lang="zh-CN">' in portal.text("/login")


def test_english_error_pages(portal):
    """After switching to English, error pages are in English too."""
    portal.get("/login")
    portal.post("/language", {"locale": "en"})
    resp = portal.get("/no/such/page")
    assert resp.status_code == 404
    assert "Not found" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("1,234.50", 123450),
        ("1234.5", 123450),
        ("¥1,234.50", 123450),
        ("￥12", 1200),
        ("１２３４．５６", 123456),
        (" 0.01 ", 1),
        ("1,000,000", 100000000),
        ("700元", 70000),
    ],
)
def test_yuan_are_read_as_exact_fen(typed, fen):
    """Typed yuan become integer fen exactly (Decimal, no floats), whatever the input method."""
    assert i18n.parse_yuan(typed) == fen


@pytest.mark.parametrize("typed", ["12.345", "-5", "1,23", "12,34.5", "abc", "", "1.2.3", "0", "1e3", "nan"])
def test_bad_yuan_are_refused_not_rounded(typed):
    """More than two decimals, signs, bad grouping, zero and non-numbers are refused."""
    with pytest.raises(i18n.MoneyError):
        i18n.parse_yuan(typed)


def test_zero_yuan_allowed_where_asked():
    """A field that allows zero (goods or a service) reads "0" as 0 fen."""
    assert i18n.parse_yuan("0", allow_zero=True) == 0


def test_amounts_are_written_with_yen_sign_and_grouping():
    """Fen are shown as ¥1,234.50 (and an em dash for no amount)."""
    assert i18n.format_yuan(123450) == "¥1,234.50"
    assert i18n.format_yuan(5) == "¥0.05"
    assert i18n.format_yuan(None) == "—"
    assert i18n.yuan_input(123450) == "1234.50"


def test_times_are_shown_in_shanghai(app):
    """A UTC timestamp is shown in Asia/Shanghai (UTC+8), the date rolling over at local midnight."""
    with app.test_request_context("/"):
        moment = datetime(2024, 1, 1, 16, 30, tzinfo=UTC)
        assert i18n.format_datetime(moment) == "2024-01-02 00:30"
        assert i18n.format_date(moment) == "2024-01-02"
