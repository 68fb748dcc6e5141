"""Use cases. Each takes a SQLAlchemy session, the acting `Actor` and plain values.

Services flush but never commit: the caller (API request, CLI command, job) owns the
transaction, so one use case is one transaction.
"""
