"""Erasing a family's personal data while the ledger and the audit chain hold: who a
request names and how they are found in text (:mod:`.subjects`), masking them in every
table, file and kept export (:mod:`.scrub`), the request an admin makes and an auditor
approves (:mod:`.requests`), and the retention job that erases what is past its period
after a household leaves the registry (:mod:`.retention`).

May import: ``broker.audit``, ``broker.policy`` (where documents are kept), ``broker.registry``
(where consent forms are kept), ``broker.referral`` (where receipts are kept),
``broker.community`` (where leads' photos are kept), the platform and ``models``.
"""
