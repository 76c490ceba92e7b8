"""The people the broker serves and tells: users, sign-in and tokens (:mod:`.users`) and
notifications to caseworkers (:mod:`.notify`).

May import: ``broker.registry`` (who answers for a grid), ``broker.audit``, the platform
and ``models``.
"""
