"""Scheduled jobs: idempotent use cases run once at a time under a lock, each run recorded."""
