"""Glass Pocket's domain: the entry format, keys, the Merkle log and the rules.

``ledger.core`` is pure (standard library, cryptography and rfc8785 only): the
verifier imports it and nothing else. ``ledger.store`` is the write side on
eventsourcing and SQLAlchemy; only the service imports it.
"""
