"""The ways in: the HTTP service (FastAPI), the ``glasspocket`` command line, the demo."""
