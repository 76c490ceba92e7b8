"""The people the broker serves and tells: users, sign-in and tokens (:mod:`.users`) and
notifications to caseworkers (:mod:`.notify`).

May import: ``broker.audit``, the platform and ``models``.
"""
