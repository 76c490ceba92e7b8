"""Text for people in an API answer: a text code, its parameters and the sentence they
make in the caller's language (``Accept-Language``, else the user's chosen language,
else Chinese). Clients that show text to people show ``message``; clients that act on
it read ``code`` and ``params``, which never change with the language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields

from broker.platform import texts

LANGUAGE_NOTE = (
    "`message` is rendered in the caller's language: `Accept-Language` (zh-CN or en), else the "
    "user's chosen language, else Chinese. `code` and `params` do not change with the language."
)


class TextOut(Schema):
    code = fields.String(
        allow_none=True,
        metadata={"description": "The text code; null for a person's own words", "example": "routing.rank"},
    )
    params = fields.Dict(metadata={"description": "Its parameters (money in fen, as `…_fen`)"})
    message = fields.String(metadata={"description": "The sentence in the caller's language"})


def as_text(value: Any) -> dict[str, Any] | None:
    """A stored ``{"code", "params"}`` → ``{"code", "params", "message"}``; a stored plain
    string (a person's words, or an entry from before codes) → its message without a code."""
    if value is None or value == "":
        return None
    if isinstance(value, dict) and value.get("code"):
        return texts.rendered(value)
    if isinstance(value, dict) and "text" in value:
        return {"code": None, "params": {}, "message": str(value["text"])}
    return {"code": None, "params": {}, "message": str(value)}


class Text(fields.Nested):
    """A text code field: serialises what the domain stores (first through ``convert``,
    when the stored value needs it) as :func:`as_text` does."""

    def __init__(self, convert: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
        metadata = dict(kwargs.pop("metadata", {}) or {})
        metadata["description"] = (metadata.get("description", "") + " " + LANGUAGE_NOTE).strip()
        self.convert = convert
        kwargs.setdefault("dump_only", True)
        super().__init__(TextOut, allow_none=True, metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if self.convert is not None:
            value = self.convert(value)
        return super()._serialize(as_text(value), attr, obj, **kwargs)


class TextList(fields.List):
    """A list of text codes (``convert`` turns what is stored into the list)."""

    def __init__(self, convert: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
        self.convert = convert
        kwargs.setdefault("dump_only", True)
        super().__init__(Text(), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if self.convert is not None:
            value = self.convert(value)
        return super()._serialize(value, attr, obj, **kwargs)


class Said(fields.String):
    """A stored text code (or plain text) as the sentence alone, in the caller's language:
    for fields that were sentences before they were codes."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        text = as_text(value)
        return None if text is None else text["message"]
