"""Building blocks the tests share: API scenarios, ledger rows, registry data, and the servers some tests start."""
