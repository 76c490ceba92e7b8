"""Masking a subject everywhere: every text and JSON column of every table (the audit
chain's hashed rows hold no personal data and are left alone; a detail row masked is
marked erased, its digest kept), the registry rows themselves, uploaded files, and the
exports the broker keeps in its instance folder."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, select, update
from sqlalchemy.orm import Session

from broker.community import leads
from broker.erasure.subjects import MASK, Subject
from broker.platform import photos, runtime
from broker.policy import document_files
from broker.referral import receipts
from broker.registry import consent_records
from models import (
    AidRequest,
    Application,
    ApplicationFile,
    AuditDetail,
    Base,
    Consent,
    Disbursement,
    Household,
    Lead,
    Member,
    Offer,
    Receipt,
)
from models.base import utcnow

# The chain's hashed rows carry ids and digests only (and may not be changed).
SKIP_TABLES = frozenset({"audit_events"})
# Tables that hold messages about a family rather than its record (the "messages" kind).
MESSAGE_TABLES = frozenset({"notifications", "notification_deliveries", "outbox", "idempotency_keys"})
# Exports the broker writes into its instance folder and keeps: the policy scan's visiting lists.
EXPORT_GLOBS = ("policy-scan-*/*.csv", "policy-scan-*/*.xlsx")
Progress = Callable[[str], None]


def _text_columns(table: Table) -> list:
    """Every column that may hold words: strings, text and JSON documents."""
    return [c for c in table.columns if not c.primary_key and isinstance(c.type, String | JSON)]


def scrub_tables(
    session: Session,
    subject: Subject,
    erasure_id: int,
    tables: frozenset[str] | None = None,
    progress: Progress | None = None,
) -> Counter:
    """Mask the subject in every text and JSON column (of ``tables`` only, if given).
    Returns how many values changed per ``table.column``."""
    counts: Counter = Counter()
    pattern = subject.pattern()
    if not pattern:
        return counts
    compiled = re.compile(pattern)
    for table in Base.metadata.sorted_tables:
        if table.name in SKIP_TABLES or (tables is not None and table.name not in tables):
            continue
        keys = list(table.primary_key.columns)
        for column in _text_columns(table):
            found = session.execute(select(*keys, column).where(cast(column, Text).regexp_match(pattern))).all()
            for row in found:
                value = row[-1]
                masked = subject.mask(value, compiled)
                if masked == value:
                    continue
                values: dict[str, Any] = {column.name: masked}
                if table.name == AuditDetail.__tablename__:
                    values |= {"erased_at": utcnow(), "erasure_id": erasure_id}
                where = [k == row[i] for i, k in enumerate(keys)]
                session.execute(update(table).where(*where).values(values))
                counts[f"{table.name}.{column.name}"] += 1
        if progress:
            progress(table.name)
    session.flush()
    return counts


def mask_registry(session: Session, subject: Subject, whole_household: bool) -> Counter:
    """The registry rows themselves: names masked, identity numbers gone (ciphertext and
    hash), birth dates cut to the year, health conditions, disability and legal supporter gone; for a
    whole household also the address, the head's name, the phone and the notes."""
    counts: Counter = Counter()
    for member in session.execute(select(Member).where(Member.id.in_(subject.member_ids))).scalars():
        member.name = MASK
        member.id_number_enc = None
        member.id_hash = None
        if member.birth_date is not None:
            member.birth_date = date(member.birth_date.year, 1, 1)
        member.conditions = []
        member.disability_grade = None
        member.disability_kind = None
        member.supporter_able = None
        counts["members"] += 1
    if whole_household:
        household = session.get(Household, subject.household_id)
        household.address = MASK
        household.head_name = MASK
        household.phone = None
        household.notes = ""
        counts["households"] += 1
    session.flush()
    return counts


def remove_files(session: Session, subject: Subject) -> Counter:
    """The household's uploaded files: application documents (rows and files), the
    evidence photos of disbursements made to it, the family's receipt signatures and slip
    photos, and the photos of its signed consent forms (files gone; their SHA-256 kept, so
    the record of what was shown stays checkable against a copy the auditor holds)."""
    counts: Counter = Counter()
    instance = Path(runtime.settings()["INSTANCE_PATH"])
    files = session.execute(
        select(ApplicationFile)
        .join(Application, Application.id == ApplicationFile.application_id)
        .where(Application.household_id == subject.household_id)
    ).scalars()
    for record in files:
        (instance / document_files.FOLDER / record.token[:2] / record.token).unlink(missing_ok=True)
        session.delete(record)
        counts["application_files"] += 1
    disbursements = session.execute(
        select(Disbursement)
        .join(Offer, Offer.id == Disbursement.offer_id)
        .join(AidRequest, AidRequest.id == Offer.request_id)
        .where(AidRequest.household_id == subject.household_id, Disbursement.evidence.is_not(None))
    ).scalars()
    for d in disbursements:
        evidence = dict(d.evidence or {})
        if evidence.get("path"):
            (instance / evidence["path"]).unlink(missing_ok=True)
            d.evidence = {"sha256": evidence.get("sha256"), "size": evidence.get("size"), "erased": True}
            counts["evidence_files"] += 1
    for receipt in session.scalars(
        select(Receipt).where(Receipt.household_id == subject.household_id, Receipt.file.is_not(None))
    ):
        kept = dict(receipt.file or {})
        if kept.get("token"):
            (instance / receipts.FOLDER / kept["token"][:2] / kept["token"]).unlink(missing_ok=True)
            receipt.file = {"sha256": kept.get("sha256"), "size": kept.get("size"), "erased": True}
            counts["receipt_files"] += 1
    for consent in session.scalars(
        select(Consent).where(Consent.household_id == subject.household_id, Consent.evidence_token.is_not(None))
    ):
        token = consent.evidence_token
        (instance / consent_records.FOLDER / token[:2] / token).unlink(missing_ok=True)
        consent.evidence_token = None
        counts["consent_forms"] += 1
    for lead in session.scalars(
        select(Lead).where(Lead.household_id == subject.household_id, Lead.photo_token.is_not(None))
    ):
        photos.remove(leads.FOLDER, lead.photo_token)
        lead.photo_token = None
        counts["lead_photos"] += 1
    session.flush()
    return counts


def scrub_exports(subject: Subject) -> Counter:
    """Rewrite every kept export file that names the subject, each cell masked."""
    counts: Counter = Counter()
    pattern = subject.pattern()
    if not pattern:
        return counts
    compiled = re.compile(pattern)
    instance = Path(runtime.settings()["INSTANCE_PATH"])
    for glob in EXPORT_GLOBS:
        for path in sorted(instance.glob(glob)):
            changed = _scrub_xlsx(path, compiled) if path.suffix == ".xlsx" else _scrub_csv(path, compiled)
            if changed:
                counts["exports"] += 1
    return counts


def _scrub_csv(path: Path, compiled: re.Pattern) -> bool:
    text = path.read_text(encoding="utf-8-sig")
    if not compiled.search(text):
        return False
    rows = [[compiled.sub(MASK, cell) for cell in row] for row in csv.reader(io.StringIO(text))]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    _replace(path, buf.getvalue().encode("utf-8-sig"))
    return True


def _scrub_xlsx(path: Path, compiled: re.Pattern) -> bool:
    from openpyxl import load_workbook

    book = load_workbook(path)
    changed = False
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and compiled.search(cell.value):
                    cell.value = compiled.sub(MASK, cell.value)
                    changed = True
    if changed:
        buf = io.BytesIO()
        book.save(buf)
        _replace(path, buf.getvalue())
    return changed


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
