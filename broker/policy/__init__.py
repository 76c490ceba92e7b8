"""Government policies as data, and the households they are for.

- The rule language over a household's fact columns: :mod:`.syntax` (tokens, tree,
  errors with their column), :mod:`.parser`, :mod:`.evaluation` (the Python verdict
  over :class:`~.evaluation.Facts`), :mod:`.rule_sql` (the same verdict in SQL),
  :mod:`.rules` (a parsed :class:`~.rules.Rule` and its "why"); the documented fields,
  parameters and functions a rule may use: :mod:`.fields`. The "why" for people: each
  clause as a code with parameters (:mod:`.reasons`), said in :mod:`.wording`.
- The versioned YAML catalogue: :mod:`.policy_file` (one file read and checked),
  :mod:`.catalogue` (every version, the current one per code).
- What a household qualifies for: :mod:`.package`; every household in the registry that
  qualifies and has not applied: :mod:`.scan`.
- Applications filed on the family's behalf: :mod:`.applications` (checklist and steps),
  :mod:`.reminders` (deadlines past, their sweep, the open ones most urgent first),
  :mod:`.document_files` (photos of the documents), :mod:`.application_form` (the
  filled form the family signs).
- Public notices (公示) of approved applications per community, with consent and masked
  names: :mod:`.notices`; printed as PDF or XLSX: :mod:`.notice_files`.

May import: ``broker.registry`` (households and their facts), ``broker.people`` (telling
caseworkers), ``broker.audit``, the platform and ``models``; never the web layers.
"""
