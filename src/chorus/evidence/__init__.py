"""Evidence: the tamper-evident ledger, encrypted captures, court-ready export and verify."""
