"""(being written) routes registered by ``create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from api.settings import Settings
from ledger.store.service import LedgerService


def register(app: FastAPI, ledger: LedgerService, settings: Settings) -> None:
    """Add this module's routes to the app."""
