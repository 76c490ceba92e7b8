"""The registry of households in hardship (困难对象信息库): who may do what in it
(:mod:`.access`), the region tree and where each grid hangs in it (read:
:mod:`.region_tree`; changed: :mod:`.regions`, :mod:`.region_schema`), grids
(:mod:`.grids`), households (:mod:`.households`), their members
and identity numbers (:mod:`.members`), visits and the coverage view (:mod:`.visits`),
what a household record may contain (:mod:`.household_schema`), the facts policies and
routing read (:mod:`.household_facts`), resident identity numbers (:mod:`.identity`),
what a partner may learn (:mod:`.privacy`), what each recipient sees of a household
(:mod:`.disclosure`) and free text made safe to leave (:mod:`.redaction`), who read
sensitive fields (:mod:`.access_log`), rotating the data key (:mod:`.key_rotation`),
whether the family agreed to a purpose (:mod:`.consents`) and its consent records
(:mod:`.consent_records`), and the door-to-door survey import: the sheet
and its columns (:mod:`.survey_sheet`), a row to a member and errors back to rows
(:mod:`.survey_rows`), the sheet read and validated in batches, in a process of its own
for a large sheet (:mod:`.survey_reader`), the import's writing and its report
(:mod:`.importer`), and how a batch is written set-based (:mod:`.survey_batch`).

May import: ``broker.audit``, the platform and ``models``.
"""
