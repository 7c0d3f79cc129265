"""The verifier residents and auditors run: it trusts nothing but the policy they pinned.

It imports only ``ledger.core`` (the pure core) and the standard library, so
``pip install glasspocket`` (cryptography and rfc8785) is all it needs.
"""
