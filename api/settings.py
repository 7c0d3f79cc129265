"""Settings shared by the command line and the HTTP service, read once and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger.core.keys import load_key_dir
from ledger.store.database import database_url
from ledger.store.service import LedgerService

DEFAULT_KEYS_DIR = "glasspocket-keys"
DEFAULT_PUBLIC_HOST = "localhost:8000"


def keys_dir(explicit: str | None = None) -> Path:
    """``--keys`` if given, else ``GLASSPOCKET_KEYS``, else ``./glasspocket-keys``."""
    return Path(explicit or os.environ.get("GLASSPOCKET_KEYS") or DEFAULT_KEYS_DIR)


@dataclass(frozen=True)
class Settings:
    database_url: str
    keys_dir: Path
    public_host: str = DEFAULT_PUBLIC_HOST
    # add-checkpoint URLs of the witnesses the server asks to cosign each new checkpoint
    witness_urls: tuple[str, ...] = ()

    @classmethod
    def resolve(
        cls,
        db: str | None = None,
        keys: str | None = None,
        public_host: str | None = None,
        witness_urls: list[str] | None = None,
    ) -> Settings:
        host = public_host or os.environ.get("GLASSPOCKET_PUBLIC_HOST") or DEFAULT_PUBLIC_HOST
        urls = witness_urls or os.environ.get("GLASSPOCKET_WITNESS_URLS", "").split()
        return cls(database_url(db), keys_dir(keys), host, tuple(urls))

    def open_service(self) -> LedgerService:
        """The ledger service with the log keys of its communities from the keys folder.

        Only keys named as one of the database's log origins are kept: actor keys in
        the same folder are never held by the service.
        """
        service = LedgerService(self.database_url)
        if self.keys_dir.is_dir():
            origins = {service.community_info(c)["origin"] for c in service.communities()}
            for key in load_key_dir(self.keys_dir):
                if key.name in origins:
                    service.add_log_key(key)
        return service
