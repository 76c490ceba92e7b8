"""status notes the broker wrote in English become text codes

Revision ID: 0005a
Revises: 0005c
Create Date: 2026-12-02

The broker's own notes on a request or offer (``status_reason``) were English sentences;
they are now codes rendered in the reader's language (``broker.referral.wording``). The
notes people wrote (a partner's reason for declining, a caseworker's note) are left as
they are. Downgrading writes the English sentences back.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005a"
down_revision = "0005c"
branch_labels = None
depends_on = None

# The English the broker wrote → the code that says it now.
NOTES = {
    "the request is fulfilled": "request_fulfilled",
    "fulfilled: the disbursements cover the amount": "fulfilled_disbursed",
    "fulfilled by the partner": "fulfilled_by_partner",
    "the request was entered in error": "request_entered_in_error",
    "confirmed fulfilled by the caseworker": "confirmed_by_caseworker",
    "the caseworker confirmed the request fulfilled": "caseworker_confirmed",
    "completed by the partner": "completed_by_partner",
    "fully disbursed": "fully_disbursed",
}
TABLES = ("aid_requests", "offers")
# "the request was withdrawn: family_moved" and the like: one code for all of them.
WITHDRAWN_PREFIX = "the request was withdrawn: "


def _rewrite(pairs: dict[str, str]) -> None:
    for table in TABLES:
        for old, new in pairs.items():
            op.execute(
                sa.text(f"UPDATE {table} SET status_reason = :new WHERE status_reason = :old").bindparams(
                    old=old, new=new
                )
            )


def upgrade() -> None:
    _rewrite(NOTES)
    for table in TABLES:
        op.execute(
            sa.text(f"UPDATE {table} SET status_reason = 'request_withdrawn' WHERE status_reason LIKE :prefix").bindparams(
                prefix=WITHDRAWN_PREFIX + "%"
            )
        )


def downgrade() -> None:
    _rewrite({new: old for old, new in NOTES.items()})
    _rewrite({"request_withdrawn": "the request was withdrawn"})
