"""The domain: registry, assessment, policy, routing, lifecycle, ledger, audit, outbox, jobs."""
