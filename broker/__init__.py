"""aidbroker: the domain by package (registry, policy, referral, money, audit, people) on
the platform, the thin outer layers (api, portal, cli) and the entry points (factory,
boot, run, jobs, worker, warmup, cron)."""
