"""Read models: the statements' figures as SQL tables, fed from the event store's notification log.

- ``figures``: one entry plus the fold before it → rows (pure; the rules' own effects).
- ``tables``, ``store``: the ``gpv_`` tables; a batch of rows and its tracking position
  are written in one transaction.
- ``runner``: ``Projector(service).catch_up()`` / ``.rebuild()``.
- ``queries``, ``accounts``, ``disclosures``: read functions (integer fen).

Projections never write entries; a rebuild from zero gives the same tables.
"""
