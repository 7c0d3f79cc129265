"""Publishing quarterly statements and writing statement bundles (SPEC §5).

``publish_statement`` computes the statement of a period from the folded state with
the functions the rules and the verifier use (``ledger.core.statement_rules``), signs
it with the treasurer's key and appends it; publishing again returns the same entry.
``statement_bundle`` writes the ``glasspocket/statement-bundle@v1`` object a resident
can verify without the log.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ledger.core.entry import parse_logged_entry, sign_entry
from ledger.core.errors import FutureTimestampError, LedgerError, NotFoundError
from ledger.core.keys import SigningKey
from ledger.core.merkle import consistency_proof
from ledger.core.policy import VerifiedCheckpoint
from ledger.core.statement_rules import expected_body
from ledger.core.statements import statement_at, statement_end, statement_id
from ledger.store.publish import Published, keychain_text, published_checkpoint, receipt_text
from ledger.store.service import Appended, Clock, LedgerService, utc_now

BUNDLE_FORMAT = "glasspocket/statement-bundle@v1"


def publish_statement(
    service: LedgerService,
    community: str,
    period: str,
    treasurer_key: SigningKey,
    clock: Clock = utc_now,
) -> Appended:
    """Append the statement for ``period`` (once it has ended); again: the same entry."""
    state = service.state(community)
    record = state.statements.published.get(period)
    if record is not None:
        return service.submit(
            community, service.entries(community, record.index, record.index + 1)[0]
        )
    at = statement_at(period)
    if statement_end(period) > clock():
        raise FutureTimestampError(
            f"the period {period} ends at {at}; a statement is published only after that",
            f"{period} 期间于 {at} 结束，期满后方可发布报表",
        )
    entry = sign_entry(
        treasurer_key,
        community=community,
        type="statement.published",
        body=expected_body(state, period),
        at=at,
        entry_id=statement_id(community, period),
    )
    return service.submit(community, entry)


def statement_bundle(service: LedgerService, community: str, period: str) -> dict[str, Any]:
    """The statement bundle of ``period`` against the newest checkpoint that meets the policy."""
    state = service.state(community)
    record = state.statements.published.get(period)
    if record is None:
        raise NotFoundError(
            f"no statement for {period} in community {community}",
            f"小区 {community} 尚无 {period} 的报表",
        )
    published = published_checkpoint(service, community)
    size = published.verified.size
    entry = service.entries(community, record.index, record.index + 1)[0]
    hashes = service.hashes(community)
    return {
        "format": BUNDLE_FORMAT,
        "entry": _b64(entry),
        "proof": receipt_text(service, published, record.index),
        "covered_consistency": [_b64(h) for h in consistency_proof(record.end, size, hashes)],
        "previous": _previous(service, published, parse_logged_entry(entry).body["start"]),
        "keychain": keychain_text(service, published),
    }


def bundle_text(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def _previous(service: LedgerService, published: Published, start: int) -> dict[str, Any] | None:
    """The first checkpoint that met the policy and held the previous statement (index start)."""
    if start == 0:
        return None
    community, size = published.community, published.verified.size
    first = _first_checkpoint_after(service, published, start) or published.verified
    proof = consistency_proof(first.size, size, service.hashes(community))
    return {"checkpoint": first.note_text, "consistency": [_b64(h) for h in proof]}


def _first_checkpoint_after(
    service: LedgerService, published: Published, index: int
) -> VerifiedCheckpoint | None:
    for size in service.checkpoint_sizes(published.community):
        if index < size <= published.verified.size:
            try:
                return published.policy.check(service.checkpoint_note(published.community, size))
            except LedgerError:
                continue
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
