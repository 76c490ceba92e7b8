"""``expected_cover`` in a policy file: what the policy is expected to pay of a need
(an amount, or a share with an optional cap), read and checked at start-up like the rest
of the file — each mistake stops the start with file:line: reason."""

from __future__ import annotations

import pytest

from broker import boot
from broker.policy import catalogue
from broker.policy.catalogue import PolicyError
from broker.policy.cover import ExpectedCover
from tests.policy.test_policies import GOOD, PARAMS, problems_of, write

YUAN = 100


def policy_with(cover: str, *, category: str | None = "medical") -> str:
    text = GOOD.format(code="cover", version="1", rule="true")
    if category:
        text = text.replace("department: 区民政局\n", f"department: 区民政局\ncategory: {category}\n")
    return text + cover


def test_the_shipped_policies_say_what_they_cover():
    """medical_aid: half, capped at the yearly 80,000 yuan; education_aid and dibao: an amount."""
    cat = catalogue.current()
    medical = cat.get("medical_aid").expected_cover
    assert medical == ExpectedCover(category="medical", share="0.5", cap_fen=80000 * YUAN)
    assert medical.of(30000 * YUAN) == 15000 * YUAN
    assert medical.of(200000 * YUAN) == 80000 * YUAN
    assert cat.get("education_aid").expected_cover == ExpectedCover(category="schooling", amount_fen=2500 * YUAN)
    assert cat.get("education_aid").expected_cover.of(1000 * YUAN) == 1000 * YUAN
    assert cat.get("dibao").expected_cover.category == "living"
    assert cat.get("dibao").covers("living")
    assert not cat.get("tekun").covers("living")
    assert cat.get("medical_aid").summary()["expected_cover"]["cap_fen"] == 80000 * YUAN


def test_a_good_cover_loads_in_fen_yuan_and_a_category_of_its_own(tmp_path):
    """Fen or 'N yuan'; a share of exactly 1; a category other than the policy's."""
    write(tmp_path, "cover.yaml", policy_with("expected_cover:\n  share: 1\n  cap: 1234.50 yuan\n"))
    write(
        tmp_path,
        "other.yaml",
        GOOD.format(code="other", version="1", rule="true") + "expected_cover:\n  category: living\n  amount: 150000\n",
    )
    cat = catalogue.load(tmp_path, PARAMS)
    assert cat.get("cover").expected_cover == ExpectedCover(category="medical", share="1", cap_fen=123450)
    assert cat.get("cover").expected_cover.of(100 * YUAN) == 100 * YUAN
    assert cat.get("other").expected_cover == ExpectedCover(category="living", amount_fen=150000)
    assert cat.get("other").expected_cover.of(333) == 333


@pytest.mark.parametrize(
    ("cover", "expected"),
    [
        ("expected_cover:\n  share: 1.5\n", ":16: expected_cover.share must be a number above 0 and at most 1"),
        ("expected_cover:\n  share: 0\n", ":16: expected_cover.share must be a number above 0"),
        ("expected_cover:\n  share: half\n", ":16: expected_cover.share"),
        ("expected_cover:\n  amount: -5\n", ":16: expected_cover.amount must be a positive amount"),
        ("expected_cover:\n  amount: lots yuan\n", ":16: expected_cover.amount must be a positive amount"),
        ("expected_cover:\n  amount: 100\n  share: 0.5\n", ":16: expected_cover needs either an amount or a share"),
        ("expected_cover:\n  cap: 100 yuan\n", ":16: expected_cover needs either an amount or a share"),
        ("expected_cover:\n  amount: 100\n  cap: 5\n", ":17: expected_cover.cap goes with a share"),
        ("expected_cover:\n  share: 0.5\n  cap: 0\n", ":17: expected_cover.cap must be a positive amount"),
        ("expected_cover:\n  share: 0.5\n  category: rent\n", ":17: expected_cover.category must be one of"),
        ("expected_cover:\n  share: 0.5\n  ratio: 1\n", ":17: expected_cover: unknown key 'ratio'"),
        ("expected_cover: 0.5\n", ":15: expected_cover must be a mapping"),
    ],
)
def test_a_bad_cover_stops_the_start_with_file_and_line(tmp_path, cover, expected):
    """Each mistake in expected_cover is reported as file:line: reason."""
    write(tmp_path, "cover.yaml", policy_with(cover))
    message = problems_of(tmp_path)
    assert f"cover.yaml{expected}" in message, message


def test_a_cover_without_a_category_is_refused(tmp_path):
    """A policy naming no category must say which need its cover is for."""
    write(tmp_path, "cover.yaml", policy_with("expected_cover:\n  amount: 100 yuan\n", category=None))
    assert "cover.yaml:15: expected_cover needs a category" in problems_of(tmp_path)


def test_start_up_refuses_a_bad_cover(tmp_path):
    """The process does not start on a bad expected_cover."""
    folder = tmp_path / "policies"
    folder.mkdir()
    write(folder, "bad.yaml", policy_with("expected_cover:\n  share: 2\n"))
    with pytest.raises(PolicyError, match=r"bad\.yaml:16: expected_cover\.share"):
        boot.init({"INSTANCE_PATH": str(tmp_path / "inst"), "POLICY_DIR": str(folder)})
