"""Money: the double-entry ledger and partners' funds (:mod:`.ledger`), what a delivery
record holds for money, services and goods (:mod:`.disbursement_kinds`), evidence files
(:mod:`.evidence`), reports and their spreadsheets (:mod:`.reports`, :mod:`.exports`).

May import: ``broker.audit``, the platform and ``models``.
"""
