"""(being written) asks the witnesses to cosign each new checkpoint."""

from __future__ import annotations

from fastapi import FastAPI

from api.settings import Settings
from ledger.store.service import LedgerService


def attach(app: FastAPI, ledger: LedgerService, settings: Settings) -> None:
    """Set ``app.state.after_append(community)``, called after each appended entry."""

    def after_append(community: str) -> None:
        return None

    app.state.after_append = after_append
