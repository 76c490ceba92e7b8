"""Migration 0007a on a database of its own: with a partner's fund and its ledger present,
the upgrade adds restrictions and each account's part (existing accounts become the
unrestricted part, balances untouched) as the models describe them; the downgrade folds
every restricted part back into the partner's unrestricted accounts, so that every
transaction still balances and each partner's total is unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base
from tests.support.migrations import alembic_config, own_database

NOW = "'2026-12-01 08:00:00'"


@pytest.fixture
def engine(app, tmp_path) -> Iterator[sa.Engine]:
    with own_database(tmp_path, "mig0007a") as eng:
        yield eng


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    return [d for d in diffs if "fund_restrictions" in repr(d) or "restriction_id" in repr(d)]


def _sql(conn: sa.Connection, statement: str, **params: object) -> sa.CursorResult:
    return conn.execute(sa.text(statement), params)


def _balances(conn: sa.Connection) -> dict[str, int]:
    return dict(_sql(conn, "SELECT key, balance_fen FROM accounts").all())


def _txn(conn: sa.Connection, kind: str, legs: list[tuple[int, int]]) -> None:
    amount = sum(a for _, a in legs if a > 0)
    tid = _sql(
        conn,
        "INSERT INTO ledger_transactions (kind, partner_id, amount_fen, reference, donor, memo, actor, created_at) "
        f"VALUES (:kind, 1, :amount, '', '', '', 'system', {NOW}) RETURNING id",
        kind=kind,
        amount=amount,
    ).scalar_one()
    for account_id, leg in legs:
        _sql(
            conn,
            "INSERT INTO ledger_entries (transaction_id, account_id, amount_fen) VALUES (:t, :a, :x)",
            t=tid,
            a=account_id,
            x=leg,
        )
        _sql(conn, "UPDATE accounts SET balance_fen = balance_fen + :x WHERE id = :a", x=leg, a=account_id)


def _account(conn: sa.Connection, key: str, kind: str, restriction_id: int | None = None) -> int:
    extra = ", restriction_id" if restriction_id is not None else ""
    value = ", :r" if restriction_id is not None else ""
    return _sql(
        conn,
        f"INSERT INTO accounts (key, kind, partner_id, name, balance_fen, unit, created_at{extra}) "
        f"VALUES (:key, :kind, :p, '市慈善总会 — fund', 0, 'fen', {NOW}{value}) RETURNING id",
        key=key,
        kind=kind,
        p=1 if kind in ("fund", "pledged") else None,
        r=restriction_id,
    ).scalar_one()


def test_restricted_parts_come_and_fold_back(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0007i_leads")
    with engine.begin() as conn:
        _sql(
            conn,
            "INSERT INTO partners (name, kind, adapter, adapter_config, categories, regions, respond_within_hours, "
            f"active, contact, receipt_within_days, created_at, updated_at) VALUES ('市慈善总会', 'charity', 'portal', "
            f"'{{}}', '[\"medical\"]', '[\"*\"]', 48, true, '', 7, {NOW}, {NOW})",
        )
        external = _account(conn, "external", "external")
        fund = _account(conn, "fund:1", "fund")
        _account(conn, "pledged:1", "pledged")
        _txn(conn, "deposit", [(external, -50_000), (fund, 50_000)])
    command.upgrade(cfg, "0007a_restricted_funds")
    assert _differences(engine) == []
    with engine.begin() as conn:
        assert _balances(conn) == {"external": -50_000, "fund:1": 50_000, "pledged:1": 0}
        assert _sql(conn, "SELECT count(*) FROM accounts WHERE restriction_id IS NOT NULL").scalar() == 0
        rid = _sql(
            conn,
            "INSERT INTO fund_restrictions (partner_id, categories, regions, programme, expires_on, actor, created_at) "
            f"VALUES (1, '[\"medical\"]', '[]', '大病救助专项基金', NULL, 'admin', {NOW}) RETURNING id",
        ).scalar_one()
        part_fund = _account(conn, f"fund:1:r{rid}", "fund", rid)
        part_pledged = _account(conn, f"pledged:1:r{rid}", "pledged", rid)
        _txn(conn, "deposit", [(external, -20_000), (part_fund, 20_000)])
        _txn(
            conn,
            "pledge",
            [(part_fund, -5_000), (part_pledged, 5_000), (fund, -1_000), (_id(conn, "pledged:1"), 1_000)],
        )
    command.downgrade(cfg, "0007i_leads")
    inspector = sa.inspect(engine)
    assert "fund_restrictions" not in inspector.get_table_names()
    assert "restriction_id" not in {c["name"] for c in inspector.get_columns("accounts")}
    with engine.begin() as conn:
        assert _balances(conn) == {"external": -70_000, "fund:1": 64_000, "pledged:1": 6_000}
        unbalanced = _sql(
            conn, "SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount_fen) <> 0"
        ).all()
        assert unbalanced == []
        mismatched = _sql(
            conn,
            "SELECT a.id FROM accounts a LEFT JOIN (SELECT account_id, sum(amount_fen) s FROM ledger_entries "
            "GROUP BY account_id) e ON e.account_id = a.id WHERE a.balance_fen <> coalesce(e.s, 0)",
        ).all()
        assert mismatched == []
    command.upgrade(cfg, "0007a_restricted_funds")
    assert _differences(engine) == []


def _id(conn: sa.Connection, key: str) -> int:
    return _sql(conn, "SELECT id FROM accounts WHERE key = :k", k=key).scalar_one()
