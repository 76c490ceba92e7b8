"""The people the broker serves and tells: users, sign-in and tokens (:mod:`.users`);
notifications to caseworkers (:mod:`.notify`), what they say (:mod:`.notice_texts`), a
user's inbox (:mod:`.inbox`), the channels a user chooses (:mod:`.channels`) and sending
on them through Apprise (:mod:`.sending`); the family's voice — concerns and complaints
(:mod:`.concerns`), their escalation (:mod:`.concern_deadlines`) and report
(:mod:`.concern_report`).

May import: ``broker.registry`` (who answers for a grid), ``broker.money`` (its export
formats), ``broker.audit``, the platform and ``models``.
"""
