"""Periodic jobs for the cron process (``python -m broker.scheduler``, RQ's cron
scheduler): the outbox relay (drains the backlog after a Redis outage), the audit chainer
(chains what a lost job left) and the full audit verify (what the dashboard's incremental
verify cannot see), the reconciler (re-drives anything stuck, sweeps deadlines), the
overdue-application and overdue-concern sweeps, the missed care-contact sweep, the
birthday pass (age-based household facts), the purge of old idempotency keys, and the
retention job (erasing what is past its period after a household left the registry). A
pass that finds nothing to do logs nothing (``make run`` runs the worker and this
scheduler with RQ's own per-job lines off); one that does work logs one line."""

from rq import cron

from broker import jobs
from broker.platform import logs

logs.configure()

cron.register(jobs.relay_outbox, "default", interval=5, name="relay-outbox", result_ttl=60)
cron.register(jobs.chain_audit_periodic, "default", interval=5, name="chain-audit", result_ttl=60)
cron.register(jobs.verify_audit_chain, "default", interval=6 * 3600, name="verify-audit-chain", result_ttl=86400)
cron.register(
    jobs.sweep_overdue_applications, "default", interval=3600, name="sweep-overdue-applications", result_ttl=600
)
cron.register(jobs.sweep_overdue_concerns, "default", interval=600, name="sweep-overdue-concerns", result_ttl=600)
cron.register(
    jobs.sweep_missed_care_contacts, "default", interval=900, name="sweep-missed-care-contacts", result_ttl=600
)
cron.register(jobs.reconcile, "default", interval=60, name="reconcile-loop", result_ttl=600)
cron.register(jobs.refresh_birthdays, "default", interval=3600, name="refresh-birthdays", result_ttl=600)
cron.register(jobs.purge_idempotency_keys, "default", interval=3600, name="purge-idempotency-keys", result_ttl=600)
cron.register(jobs.apply_retention, "default", interval=86400, name="apply-retention", result_ttl=86400)
