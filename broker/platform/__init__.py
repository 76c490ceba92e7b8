"""The platform: what every domain stands on and that knows no domain — the database
(:mod:`.db`, :mod:`.migrate`), Redis and RQ (:mod:`.queue`, :mod:`.leases`), the
transactional outbox (:mod:`.outbox`), settings (:mod:`.runtime`), who is acting
(:mod:`.actor`, :mod:`.scope`), passwords, tokens and the data key (:mod:`.security`),
domain errors (:mod:`.errors`), idempotency keys (:mod:`.idempotency`), input checking
shared by every schema (:mod:`.input_schema`), pagination (:mod:`.pages`), money as text
(:mod:`.amounts`), text for people as codes rendered in the reader's language
(:mod:`.texts`), reporting periods (:mod:`.periods`), the adapter registry
(:mod:`.adapter_registry`), photos kept from a phone (:mod:`.photos`) and log set-up
(:mod:`.logs`).

May import: ``models``, ``config``, ``adapters.base`` and itself — no domain.
"""
