"""The write side: the community logs on eventsourcing over SQLAlchemy (SQLite or PostgreSQL).

Only the service and its commands import this package; the verifier never does.
"""
