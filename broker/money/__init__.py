"""Money: the double-entry ledger, posting (:mod:`.ledger`), its accounts
(:mod:`.accounts`) and its reading and trial balance (:mod:`.ledger_queries`); partners'
funds, deposits and balances (:mod:`.funds`); what a delivery record holds for money,
services and goods (:mod:`.disbursement_kinds`), evidence files (:mod:`.evidence`),
reports and their spreadsheets (:mod:`.reports`, :mod:`.exports`).

May import: ``broker.audit``, the platform and ``models``.
"""
