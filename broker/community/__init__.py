"""The community around the caseworker: volunteers, their teams and the tasks they take
on; mobile grid members' leads; family volunteer points and the points shop; job
openings, skills courses, placements and home-based work; special groups and the care
plans that pair them with a mentor, a doctor or a volunteer.

May import: ``broker.registry`` (households, members and their grids), ``broker.money``
(the ledger, which also keeps points), ``broker.referral`` (the requests and offers a
team or a company answers), ``broker.people`` (telling caseworkers, volunteers and
families), ``broker.policy``, ``broker.audit``, the platform, ``models`` and
``adapters.base``. Nothing else imports it but the outer layers and the entry points.
"""
