"""Linking a need to the partners who can meet it: needs assessments
(:mod:`.assessment`), aid requests as caseworkers steer them (:mod:`.requests`), routing
and its candidates (:mod:`.routing`, :mod:`.candidates`), the two state machines
(:mod:`.lifecycle`), offers as partners see them (:mod:`.inbox`), answer them
(:mod:`.offers`) and record what they paid out (:mod:`.payments`), delivery through
adapters (:mod:`.delivery`), referrals made by hand (:mod:`.referrals`), partner
organisations (:mod:`.partners`), the request's timeline (:mod:`.timeline`), the
reconciler that keeps the loop closed (:mod:`.reconcile`), the family's receipt of
what was disbursed (:mod:`.receipts`), and policy before charity: what a government
policy is expected to pay, held back from charities until its application is decided
(:mod:`.policy_holds`, :mod:`.policy_amounts`).

May import: ``broker.registry``, ``broker.policy`` (which policy covers a need, and
whether the household qualifies), ``broker.money`` (pledges and payments),
``broker.people`` (telling caseworkers and families), ``broker.audit``, the platform,
``models`` and ``adapters.base``.
"""
