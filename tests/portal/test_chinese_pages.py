"""Every page of the demo reads in Chinese: signed in as each role of the demo (its
caseworker, a partner, its auditor, its admin), the test follows every link of the
portal from the home page and fails on any run of three or more Latin words in the
visible text — outside ``<code>``, identifiers and proper names."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from broker.cli.demo import DEMO_PASSWORD, seed_demo_if_empty

# Three or more Latin words in a row, with only spaces or light punctuation between.
# A word is letters (with inner ' or -); a token touching digits (HD-ZGC-01, CS-2026-017,
# 2026-05-01) is an identifier, not a word.
_WORD = r"(?<![\w-])[A-Za-z]+(?:['’-][A-Za-z]+)*(?![\w-])"
LATIN_RUN = re.compile(rf"{_WORD}(?:[ \t,;:/&()]+{_WORD}){{2,}}")
# Proper names of things that have no Chinese name, with why each may stay.
ALLOWED = {
    "Microsoft Excel Open XML",  # nothing yet; kept as the example of a format's own name
}
# Links not to follow: leaving the session, switching the language, files to download.
_SKIP = re.compile(r"^/(logout|language|api/|static/)|[?&]lang=|\.(xlsx|csv|docx|pdf|json)(\?|$)|/export")
MAX_PAGES = 80


class _Visible(HTMLParser):
    """The text a reader sees: no script, style, code or hidden template; links noted."""

    HIDDEN = frozenset({"script", "style", "code", "template", "noscript", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.chunks: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.depth += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        if tag in ("br", "p", "div", "li", "td", "th", "dt", "dd", "option", "h1", "h2", "h3", "label"):
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1
        self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.chunks.append(data)


def latin_runs(html: str) -> tuple[list[str], list[str]]:
    parser = _Visible()
    parser.feed(html)
    text = "".join(parser.chunks)
    runs = [m.group(0) for m in LATIN_RUN.finditer(text) if m.group(0) not in ALLOWED]
    return runs, parser.links


def crawl(portal, start: str) -> dict[str, list[str]]:
    """Every page reachable by links from ``start``; the Latin runs found on each."""
    seen: set[str] = set()
    todo = [start]
    found: dict[str, list[str]] = {}
    while todo and len(seen) < MAX_PAGES:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        resp = portal.get(path)
        assert resp.status_code in (200, 302, 303), (path, resp.status_code)
        if resp.status_code != 200:
            todo.append(urlsplit(resp.headers["Location"]).path)
            continue
        if resp.mimetype != "text/html":
            continue
        runs, links = latin_runs(resp.get_data(as_text=True))
        if runs:
            found[path] = runs
        for href in links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.netloc or not href.startswith("/") or _SKIP.search(href):
                continue
            if href not in seen:
                todo.append(href)
    return found


@pytest.fixture
def demo(app, worker):
    """The demo seeded, and its routing carried out by a real worker."""
    assert seed_demo_if_empty().seeded
    worker()


@pytest.mark.parametrize(
    "username", ["caseworker", "cishan", "huzhu", "auditor", "admin", "zhiyuandui", "zhiyuanzhe", "kuaidiyuan"]
)
def test_every_demo_page_reads_in_chinese(demo, new_portal, username: str) -> None:
    portal = new_portal()
    portal.login(username, DEMO_PASSWORD)
    found = crawl(portal, "/")
    assert not found, "English on Chinese pages:\n" + "\n".join(f"{p}: {r}" for p, r in found.items())


def test_the_check_finds_english_and_spares_identifiers() -> None:
    assert latin_runs("<p>fulfilled: the disbursements cover the amount</p>")[0]
    assert latin_runs("<p>system:seed 王** household</p>")[0] == []  # two words: not a sentence
    assert latin_runs("<p>网格 HD-ZGC-01 编号 CS-2026-017</p>")[0] == []
    assert latin_runs("<p><code>GET /api/v1/requests now</code></p>")[0] == []


def test_partners_read_the_household_as_its_masked_name(demo, new_portal) -> None:
    portal = new_portal()
    portal.login("cishan", DEMO_PASSWORD)
    inbox = portal.text("/partner/")
    offer = re.search(r'href="(/partner/offers/\d+)"', inbox)
    assert offer, "the demo's charity has an offer in its inbox"
    page = portal.text(offer.group(1))
    assert "王**家" in page
    assert "household" not in page
    english = portal.text(offer.group(1) + "?lang=en")
    assert "Wang** household" in english
