"""Government policies as data: a small, safe rule language over a household's fact
columns (:mod:`.rules`), the documented fields it may use (:mod:`.fields`), the
versioned YAML catalogue (:mod:`.catalogue`) and a household's policy package
(:mod:`.package`)."""
