"""Text codes rendered in the reader's language from the project's catalogue: the locale
chosen, money as yuan, codes inside codes, unknown codes, and parameters as plain data."""

from __future__ import annotations

import logging

import pytest

from broker.platform import texts

# Sentences the catalogue already translates, under codes of this test.
texts.define(
    {
        "test.region_not_served": "does not serve grid %(grid)s",
        "test.short_of_funds": "has %(available)s available, %(needed)s needed",
        "test.partly_covered": "Partly covered: no partner can take the remaining %(gap)s.",
        "test.ranked": "ranked %(rank)s: one partner is asked at a time",
    }
)


@pytest.fixture(autouse=True)
def _catalogue(app):
    """The app's start-up handed the catalogue to the platform."""
    return app


def test_renders_in_the_locale_asked_for() -> None:
    assert texts.render("test.region_not_served", {"grid": "HD-ZGC-01"}, "zh_CN") == "不服务网格 HD-ZGC-01"
    assert texts.render("test.region_not_served", {"grid": "HD-ZGC-01"}, "en") == "does not serve grid HD-ZGC-01"
    assert texts.render("test.region_not_served", {"grid": "X"}, "en-GB") == "does not serve grid X"
    assert texts.render("test.region_not_served", {"grid": "X"}, "zh-Hans-CN") == "不服务网格 X"


def test_the_default_is_chinese_outside_a_request() -> None:
    assert texts.current_locale() == "zh_CN"
    assert texts.render("test.region_not_served", {"grid": "G1"}) == "不服务网格 G1"


def test_a_chosen_locale_holds_inside_its_block(app) -> None:
    with texts.use_locale("en"):
        assert texts.render("test.region_not_served", {"grid": "G1"}) == "does not serve grid G1"
    assert texts.render("test.region_not_served", {"grid": "G1"}) == "不服务网格 G1"
    with app.test_request_context("/"):
        texts.set_request_locale("en")
        assert texts.render("test.region_not_served", {"grid": "G1"}) == "does not serve grid G1"


def test_the_portal_request_locale_is_the_default(app) -> None:
    with app.test_request_context("/"):
        from flask import session

        session["locale"] = "en"
        assert texts.current_locale() == "en"
        assert texts.render("test.ranked", {"rank": 2}) == "ranked 2: one partner is asked at a time"


def test_fen_parameters_read_as_yuan_in_both_languages() -> None:
    params = {"available_fen": 111000, "needed_fen": 111050}
    assert texts.render("test.short_of_funds", params, "zh_CN") == "可用 ¥1,110，需要 ¥1,110.50"
    assert texts.render("test.short_of_funds", params, "en") == "has ¥1,110 available, ¥1,110.50 needed"
    assert texts.yuan(5) == "¥0.05"
    assert texts.yuan(-123456) == "-¥1,234.56"
    assert texts.yuan(None) == "—"


def test_a_code_as_a_parameter_is_rendered_first() -> None:
    inner = {"code": "test.ranked", "params": {"rank": 3}}
    expected = "不服务网格 排名第 3：每次只询问一个合作方"
    assert texts.render("test.region_not_served", {"grid": inner}, "zh_CN") == expected
    assert texts.render("test.region_not_served", {"grid": ["A", "B"]}, "zh_CN") == "不服务网格 A、B"
    assert texts.render("test.region_not_served", {"grid": ["A", "B"]}, "en") == "does not serve grid A, B"


def test_an_unknown_code_shows_as_itself_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="broker.platform.texts"):
        assert texts.render("test.nobody.defined.this", {"x": 1}, "zh_CN") == "test.nobody.defined.this"
    assert "test.nobody.defined.this" in caplog.text


def test_a_missing_parameter_shows_a_dash(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="broker.platform.texts"):
        assert texts.render("test.short_of_funds", {"needed_fen": 100}, "en") == "has — available, ¥1 needed"
    assert "available" in caplog.text


def test_parameters_are_data_not_format_strings() -> None:
    hostile = "%(grid)s %s %% {0} <b>x</b>"
    out = texts.render("test.region_not_served", {"grid": hostile}, "en")
    assert out == f"does not serve grid {hostile}"
    assert type(out) is str  # plain text: a template escapes it
    nested = {"code": "test.region_not_served", "params": {"grid": "%(rank)s"}}
    assert texts.render("test.ranked", {"rank": nested}, "en") == (
        "ranked does not serve grid %(rank)s: one partner is asked at a time"
    )


def test_a_code_defined_twice_must_say_the_same() -> None:
    texts.define({"test.ranked": "ranked %(rank)s: one partner is asked at a time"})
    with pytest.raises(ValueError, match="already defined"):
        texts.define({"test.ranked": "something else"})


def test_rendered_gives_code_params_and_message(app) -> None:
    with app.test_request_context("/"):
        texts.set_request_locale("en")
        out = texts.rendered({"code": "test.partly_covered", "params": {"gap_fen": 50000}})
    assert out == {
        "code": "test.partly_covered",
        "params": {"gap_fen": 50000},
        "message": "Partly covered: no partner can take the remaining ¥500.",
    }
    assert texts.rendered(None) is None


def test_the_marker_returns_its_msgid() -> None:
    assert texts.N_("Living aid") == "Living aid"


def test_field_complaints_become_codes_with_money_in_yuan() -> None:
    from broker.platform import field_texts

    fen = field_texts.coded("amount_fen", "must be at most 800000")
    assert fen == {"code": "invalid.at_most_fen", "params": {"maximum_fen": 800000}}
    assert texts.render(fen["code"], fen["params"], "zh_CN") == "不能超过 ¥8,000"
    assert texts.render(fen["code"], fen["params"], "en") == "must be at most ¥8,000"
    count = field_texts.coded("minutes", "Must be greater than or equal to 1 and less than or equal to 600.")
    assert texts.render(count["code"], count["params"], "zh_CN") == "须在 1 到 600 之间"
    assert field_texts.coded("x", "Missing data for required field.")["code"] == "invalid.required"
    assert field_texts.coded("x", "something new") == {"code": None, "text": "something new"}


def test_a_household_is_named_as_partners_may_see_it() -> None:
    from broker.registry import privacy

    masked = privacy.household_name("王建国", consented=False)
    assert texts.render(masked["code"], masked["params"], "zh_CN") == "王**家"
    assert texts.render(masked["code"], masked["params"], "en") == "Wang** household"
    named = privacy.household_name("李秀英", consented=True)
    assert texts.render(named["code"], named["params"], "zh_CN") == "李秀英家"
    assert texts.render(named["code"], named["params"], "en") == "Li Xiuying household"
