"""The auditor's dashboard and chain page verify the audit chain on from the last
verified checkpoint, not from the start on every load, and say (in Chinese) when the
chain was last verified in full and up to which record; a full verify is one click away
and finds what lies below the checkpoint."""

from __future__ import annotations

from broker import audit
from broker.platform import db
from tests.audit.test_chain_batches import _deposits, _positions
from tests.support.money import tamper


def test_the_dashboard_verifies_on_from_the_last_checkpoint(portal, make_user):
    """A full verify leaves a checkpoint; the dashboard then walks only what came after
    it (an edit there is found), and shows when the chain was last verified in full and
    up to which record, in Chinese. An edit below the checkpoint is found by the full
    verify, which then clears the checkpoint, so the dashboard finds it too."""
    ids = _deposits(6)
    portal.login(make_user("auditor"))
    full = audit.verify(db.session())
    assert full.ok
    assert full.from_seq is None
    assert (full.checkpoint.full_seq, full.checkpoint.full_ok) == (full.head_seq, True)
    more = _deposits(2, "慈善总会")[len(ids) :]
    db.session.remove()
    step = audit.verify_since_checkpoint(db.session())
    assert step.ok
    assert step.from_seq == full.head_seq
    assert step.events == len(_positions())
    html = portal.text("/auditor/")
    assert "上次完整校验" in html
    assert f"校验至第 {full.head_id} 号记录" in html
    page = portal.text("/auditor/audit")
    assert "本次校验从上次校验通过的位置继续" in page
    assert "上次完整校验" in page
    # Below the checkpoint: the incremental walk does not see it; the full one does.
    tamper(f"UPDATE audit_events SET object_id = object_id + 1 WHERE id = {ids[1]}")
    db.session.remove()
    assert audit.verify_since_checkpoint(db.session()).ok
    whole = portal.text("/auditor/audit?full=1")
    assert "已被改动" in whole or "被改动过" in whole
    db.session.remove()
    again = audit.verify_since_checkpoint(db.session())
    assert (again.ok, again.first_bad, again.from_seq) == (False, ids[1], None)
    assert "上次完整校验（" in portal.text("/auditor/")  # the last full verify found it broken
    assert more
