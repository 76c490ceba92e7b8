"""Every text code the project registers reads in both languages: its Chinese is in the
catalogue (present and not the English msgid left as it is), its English is a sentence and
not the bare code, and both ask for the same parameters — a translation that drops or
renames one would show a dash where a name or an amount belongs."""

from __future__ import annotations

import re

from broker.platform import texts

_PARAM = re.compile(r"%\((\w+)\)s")
# Codes whose languages rightly read different parameters, and why.
OWN_PARAMETERS = {
    "household.named": "English spells the head's name in pinyin (latin), Chinese writes it (name)",
}


def test_every_code_has_a_chinese_and_an_english_rendering(app) -> None:
    codes = texts.codes()
    assert len(codes) > 50, "the domains' codes are registered when the app starts"
    zh = texts.catalogue("zh_CN")
    missing, same, params = [], [], []
    for code, msgid in sorted(codes.items()):
        if code.startswith("test."):
            continue  # the platform's own tests define these
        translated = zh.gettext(msgid)
        if not translated.strip():
            missing.append(code)
        elif translated == msgid:
            same.append(code)
        elif code not in OWN_PARAMETERS and set(_PARAM.findall(translated)) != set(_PARAM.findall(msgid)):
            params.append(code)
        english = texts.render(code, None, "en")
        assert english, code
        assert english != code, code
    assert not missing, f"no Chinese for: {missing}"
    assert not same, f"Chinese left as the English msgid for: {same}"
    assert not params, f"Chinese with other parameters than the English for: {params}"


def test_a_code_registered_without_a_translation_is_found(app) -> None:
    """The check above is not blind: a msgid the catalogue lacks renders as itself."""
    texts.define({"test.untranslated": "a sentence nobody has translated"})
    assert texts.catalogue("zh_CN").gettext("a sentence nobody has translated") == "a sentence nobody has translated"
