"""Money: the double-entry ledger, posting (:mod:`.ledger`), its accounts
(:mod:`.accounts`) and its reading and trial balance (:mod:`.ledger_queries`); partners'
funds, deposits and balances (:mod:`.funds`), restricted funds and what fits a need
(:mod:`.restrictions`), money moved between a fund's parts on an offer (:mod:`.fund_parts`)
and balances per restriction (:mod:`.fund_balances`); what a delivery record holds for money,
services and goods (:mod:`.disbursement_kinds`), evidence files (:mod:`.evidence`), and
what auditors read: disbursements grouped (:mod:`.disbursement_totals`), possible
duplicate benefits (:mod:`.duplicates`), time to help (:mod:`.time_to_help`), what they
share (:mod:`.report_basis`), totals rolled up the region tree (:mod:`.region_reports`),
and the reports and ledger as files (:mod:`.report_files`, written by :mod:`.exports`).

May import: ``broker.audit``, ``broker.registry`` (grids, and the region tree: the one
rule for whether regions cover a grid, and roll-ups), ``broker.policy`` (which
government benefit pays for which need,
for the duplicate-benefit report), the platform and ``models``.
"""
