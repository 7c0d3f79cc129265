"""The demo's witnesses: a committee member's witness key and the residents' committee (居委会).

Each witness has its own type 0x04 key (tlog-cosignature/v1), never an actor's key,
derived from the demo's seed like every other demo key, so ``--keys`` writes them
too. The demo's trust policy names both and needs both (quorum ``all``); it is
stored when the community is founded, so it is built before (``demo_policy``).

After the demo is built, ``witness_demo`` has each witness cosign every stored
checkpoint in size order, in this process, exactly as a remote witness would
answer ``add-checkpoint`` (``ledger.core.witness``): each checkpoint must be
consistent with the last one that witness cosigned. The demo's cosignatures carry
a fixed time (``DEMO_COSIGNED_AT``), so the same seed gives the same export byte
for byte.

Checkpoints signed later (entries submitted to the served demo) are cosigned the
way any log's are, over HTTP: when ``glasspocket demo`` serves, ``serve_demo_witnesses``
runs both witnesses in this process as real C2SP add-checkpoint servers on free local
ports (their records under ``<keys>/witness-state/``, starting from the checkpoint
each cosigned when the demo was built), and the server asks them after every entry
(``api.cosigning``). This is a demo convenience only: a witness's whole worth is
that someone other than the log's operator runs it, with a key the operator never
sees. In production each witness runs ``glasspocket witness serve`` on its own
machine, and the server is given their URLs (``glasspocket serve --witness URL``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

from api.witness import WitnessStore, make_server
from ledger.core.keys import KEY_TYPE_COSIGNATURE, SigningKey
from ledger.core.merkle import consistency_proof
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.policy import build_policy
from ledger.core.witness import AddCheckpoint, Witnessed, add_checkpoint
from ledger.store.service import LedgerService

COMMUNITY = "demo"
# (policy name, key handle in the keys folder, key name)
WITNESSES = (
    ("witness-committee", "witness-committee", "demo-witnesses/committee-wang"),
    ("witness-residents", "witness-residents", "demo-witnesses/juweihui"),
)
DEMO_COSIGNED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z: after the demo's year


def witness_keys(key: Callable[[str, str, int], SigningKey]) -> list[tuple[str, SigningKey]]:
    """The demo's witnesses as (policy name, private key)."""
    return [
        (name, key(handle, key_name, KEY_TYPE_COSIGNATURE)) for name, handle, key_name in WITNESSES
    ]


def demo_policy(log_key: SigningKey, key: Callable[[str, str, int], SigningKey]) -> str:
    """The demo's trust policy: its log key and both witnesses, both needed."""
    witnesses = [(name, k.verifier()) for name, k in witness_keys(key)]
    return str(build_policy(log_key.verifier(), witnesses, "all"))


@dataclass
class InProcessWitness:
    """A witness run inside this process, remembering its last cosigned checkpoint in memory."""

    name: str
    key: SigningKey
    log_key: SigningKey
    last: Witnessed | None = None
    seen: set[int] = field(default_factory=set)

    def cosign(self, service: LedgerService, community: str, size: int, timestamp: int) -> str:
        """Cosign the stored checkpoint of ``size`` (consistency checked from its last) and store it."""
        old = 0 if self.last is None else self.last.size
        proof = consistency_proof(old, size, service.hashes(community)) if 0 < old < size else []
        request = AddCheckpoint(old, tuple(proof), service.checkpoint_note(community, size))
        line, self.last = add_checkpoint(
            self.key, [self.log_key.verifier()], request, self.last, timestamp
        )
        service.add_cosignature(community, size, line)
        return line


def witness_demo(
    service: LedgerService,
    key: Callable[[str, str, int], SigningKey],
    log_key: SigningKey,
    timestamp: int = DEMO_COSIGNED_AT,
) -> list[InProcessWitness]:
    """Each demo witness cosigns every stored checkpoint of the demo, oldest first."""
    witnesses = [InProcessWitness(name, k, log_key) for name, k in witness_keys(key)]
    sizes = service.checkpoint_sizes(COMMUNITY)
    for witness in witnesses:
        for size in sizes:
            witness.cosign(service, COMMUNITY, size, timestamp)
    return witnesses


def last_cosigned(service: LedgerService, witness: str) -> Witnessed | None:
    """The newest stored checkpoint that ``witness`` (a policy name) cosigned, as its record."""
    for size in reversed(service.checkpoint_sizes(COMMUNITY)):
        if witness in service.cosignature_lines(COMMUNITY, size):
            note = service.cosigned_note(COMMUNITY, size)
            checkpoint = parse_checkpoint(parse_note(note).text)
            return Witnessed(checkpoint.origin, checkpoint.size, checkpoint.root, note)
    return None


def serve_demo_witnesses(
    service: LedgerService,
    key: Callable[[str, str, int], SigningKey],
    log_key: SigningKey,
    state_root: Path,
    host: str = "127.0.0.1",
) -> list[tuple[str, ThreadingHTTPServer]]:
    """Run each demo witness as an add-checkpoint HTTP server in a daemon thread.

    Returns (add-checkpoint URL, server) per witness; ports are picked free. Each
    witness's record lives under ``state_root/<name>`` and starts from the last checkpoint
    it cosigned when the demo was built, so it cosigns only consistent growth from there.
    """
    running = []
    for name, witness_key in witness_keys(key):
        store = WitnessStore(state_root / name, witness_key)
        record = last_cosigned(service, name)
        if record is not None:
            store.adopt(record)
        server = make_server(store, [log_key.verifier()], host, 0)
        thread = threading.Thread(target=server.serve_forever, name=f"witness {name}", daemon=True)
        thread.start()
        running.append((f"http://{host}:{server.server_address[1]}/add-checkpoint", server))
    return running
