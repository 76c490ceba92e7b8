"""Tables for spreadsheets: CSV (UTF-8 with a BOM, so that Excel reads Chinese correctly)
and XLSX (openpyxl: Chinese headers, column widths, amounts as numbers in yuan with two
decimals). Amounts are fen in the database and the JSON API; only these files show
yuan, converted exactly (Decimal, never a float).

Text cells that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) are
prefixed with an apostrophe: exported data must never run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from broker.platform import periods, texts

BOM = "\ufeff"
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YUAN_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column: the row key it reads, its header (a text code, rendered in the reader's
    language when the file is made, or a fixed name), how to show the value —
    ``text``, ``int``, ``yuan`` (value in fen), ``number``, ``datetime`` (UTC, shown in
    local time) or ``date`` — and its width in characters."""

    key: str
    header: str
    kind: str = "text"
    width: int = 14


def said(text: str) -> str:
    """A registered text code in the reader's language; any other text as it is."""
    return texts.render(text) if text in texts.codes() else text


def header(column: Column) -> str:
    return said(column.header)


def fen_to_yuan(fen: int | None) -> Decimal | None:
    """Exact yuan with two decimals: 123456 → Decimal('1234.56')."""
    if fen is None:
        return None
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def _safe_text(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _local(value: datetime | None) -> datetime | None:
    return None if value is None else periods.to_local(value).replace(tzinfo=None)


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "yuan":
        return f"{fen_to_yuan(value):.2f}"
    if column.kind in ("int", "number"):
        return str(value)
    if column.kind == "datetime":
        return _local(value).strftime("%Y-%m-%d %H:%M:%S")
    if column.kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    return _safe_text(value)


def to_csv(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The table as CSV bytes: UTF-8 with a BOM, a header row, CRLF line ends."""
    buf = io.StringIO()
    buf.write(BOM)
    writer = csv.writer(buf)
    writer.writerow([header(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(c, row.get(c.key)) for c in columns])
    return buf.getvalue().encode("utf-8")


def _xlsx_cell(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "yuan":
        return fen_to_yuan(value)
    if column.kind in ("int", "number"):
        return value
    if column.kind == "datetime":
        return _local(value)
    if column.kind == "date":
        return value
    return _safe_text(value)


def to_xlsx(
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    title: str,
    totals: Mapping[str, Any] | None = None,
) -> bytes:
    """The table as an XLSX workbook: one sheet named ``title``, a bold header row that
    stays in view, widths set, yuan as numbers formatted ``#,##0.00``, times in local
    time; ``totals`` (by column key) adds a bold last row."""
    wb = Workbook()
    ws = wb.active
    ws.title = said(title)[:31]
    ws.append([header(c) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    ws.freeze_panes = "A2"
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    formats = {i: _number_format(c) for i, c in enumerate(columns, start=1)}
    for row in rows:
        ws.append([_xlsx_cell(c, row.get(c.key)) for c in columns])
        _format_row(ws, ws.max_row, formats)
    if totals is not None:
        ws.append([_xlsx_cell(c, totals.get(c.key)) for c in columns])
        _format_row(ws, ws.max_row, formats)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _number_format(column: Column) -> str | None:
    return {"yuan": YUAN_FORMAT, "datetime": DATETIME_FORMAT, "date": "yyyy-mm-dd", "int": "0"}.get(column.kind)


def _format_row(ws: Any, row_idx: int, formats: Mapping[int, str | None]) -> None:
    for col_idx, fmt in formats.items():
        if fmt:
            ws.cell(row=row_idx, column=col_idx).number_format = fmt


def filename(stem: str, fmt: str) -> str:
    """An ASCII file name (the Chinese title goes inside the file)."""
    return f"{stem}.{fmt}"
