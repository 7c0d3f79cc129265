"""Generate the golden vectors in ``tests/vectors/golden/`` (see its README.md).

Everything is deterministic: keys come from fixed seeds, entry ids and times are
fixed, Ed25519 signatures are deterministic and the witness's cosignature time
is a constant. Run it from the repository root after a deliberate format change:

    .venv/bin/python tests/vectors/make_vectors.py

``test_golden.py`` rebuilds the files in memory and fails on any drift, so the
committed files and the code that made them never disagree silently.

The tiny log (founded by the chair with the district office's authority key, treasurer
registered, one unit, three contributions) is
built purely in memory with the same pure core the server and the verifier use:
``rules.apply`` folds it, ``MemoryTree`` hashes it, ``note.sign_note`` signs its
checkpoint, ``tlogproof.format_tlog_proof`` makes receipts and
``keychain.format_keychain`` its key chain. The statement bundles under ``statements/``
(a longer log with two quarterly statements, honest and tampered bundles, ``cases.json``)
are made by ``statement_vectors.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from ledger.core.entry import SIGNING_CONTEXT, Entry, jcs, sign_entry
from ledger.core.keychain import KeychainItem, format_keychain
from ledger.core.keys import KEY_TYPE_COSIGNATURE, KEY_TYPE_ED25519, SigningKey
from ledger.core.merkle import MemoryTree, inclusion_proof, leaf_hash
from ledger.core.note import add_signature_lines, cosign, format_checkpoint, sign_note
from ledger.core.policy import build_policy
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.statement_rules import expected_body
from ledger.core.statements import statement_at, statement_id
from ledger.core.tiles import build_entry_bundles, build_tiles
from ledger.core.tlogproof import TlogProof, format_tlog_proof

GOLDEN = Path(__file__).resolve().parent / "golden"
COMMUNITY = "golden"
ORIGIN = "vectors.example/c/golden/log"
COSIGNED_AT = 1_735_689_600  # 2025-01-01T00:00:00Z, the witness's cosignature time
WITNESS_NAME = "neighbour"

# handle -> (key name, key type, role in the community or None for log/witness keys)
KEY_SPECS: dict[str, tuple[str, int, str | None]] = {
    "chair": (f"{COMMUNITY}/chair", KEY_TYPE_ED25519, "committee"),
    "wang": (f"{COMMUNITY}/wang", KEY_TYPE_ED25519, "committee"),  # elected in money_story
    "treasurer": (f"{COMMUNITY}/treasurer", KEY_TYPE_ED25519, "treasurer"),
    "jiedao": (f"{COMMUNITY}/jiedao", KEY_TYPE_ED25519, "authority"),
    "owner": (f"{COMMUNITY}/owner", KEY_TYPE_ED25519, "owner"),  # registered in money_story
    "stranger": (f"{COMMUNITY}/stranger", KEY_TYPE_ED25519, None),
    "log": (ORIGIN, KEY_TYPE_ED25519, None),
    "impostor-log": (ORIGIN, KEY_TYPE_ED25519, None),
    "other-log": ("other.example/c/golden/log", KEY_TYPE_ED25519, None),
    "witness": ("witness.example/neighbour", KEY_TYPE_COSIGNATURE, None),
    "witness-committee": ("witness.example/committee", KEY_TYPE_COSIGNATURE, None),
}


def seed(handle: str) -> bytes:
    """The fixed 32-byte seed of a TEST key: SHA-256 of a public phrase. Never use in production."""
    return hashlib.sha256(f"glasspocket golden vector key: {handle}".encode()).digest()


def key(handle: str) -> SigningKey:
    name, key_type, _role = KEY_SPECS[handle]
    return SigningKey(name, key_type, seed(handle))


def entry_id(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"glasspocket/golden/{label}"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def dump(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


# --- the tiny log -----------------------------------------------------------------------------


def log_entries() -> list[Entry]:
    """Founded, treasurer registered, a unit, three contributions: folded to prove they are valid.

    The chair is the only committee key (quorum 1), so the treasurer's key is in effect at once.
    """
    chair, treasurer = key("chair"), key("treasurer")

    def signed(signer: SigningKey, label: str, entry_type: str, at: str, body: Any) -> Entry:
        return sign_entry(
            signer, community=COMMUNITY, type=entry_type, body=body, at=at, entry_id=entry_id(label)
        )

    founding_keys = [
        {"vkey": str(key("chair").verifier()), "role": "committee"},
        {"vkey": str(key("jiedao").verifier()), "role": "authority"},
    ]
    unit = {"unit": "3-1-502", "building": "3", "area_cm2": 895_000, "owner": "owner-0001"}
    entries = [
        signed(
            chair,
            "founded",
            "community.founded",
            "2025-01-02T09:00:00+08:00",
            {"name": "金色小区 Golden Court", "origin": ORIGIN, "keys": founding_keys},
        ),
        signed(
            chair,
            "treasurer-registered",
            "key.registered",
            "2025-01-02T09:05:00+08:00",
            {"vkey": str(treasurer.verifier()), "role": "treasurer"},
        ),
        signed(treasurer, "unit", "unit.registered", "2025-01-02T10:00:00+08:00", unit),
        signed(
            treasurer,
            "fee-2025-01",
            "contribution.received",
            "2025-01-03T11:00:00+08:00",
            {
                "fund": "property",
                "unit": "3-1-502",
                "amount_fen": 26_850,
                "month": "2025-01",
                "method": "wechat",
            },
        ),
        signed(
            treasurer,
            "deposit",
            "contribution.received",
            "2025-01-03T11:30:00Z",
            {
                "fund": "maintenance",
                "unit": "3-1-502",
                "amount_fen": 1_074_000,
                "deposit": "initial",
                "method": "bank",
                "reference": "BOC-20250103-0042",
            },
        ),
        signed(
            treasurer,
            "fee-2025-02",
            "contribution.received",
            "2025-02-01T08:00:00+08:00",
            {"fund": "property", "unit": "3-1-502", "amount_fen": 26_850, "month": "2025-02"},
        ),
    ]
    state = CommunityState()
    for entry in entries:
        apply(state, entry)
    return entries


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def money_story(log: list[Entry]) -> list[Entry]:
    """Entries of every other type, in order, folded on top of the tiny log to prove them valid.

    They are not part of the tiny log (whose files stay as they are): each is a known-good
    entry of its type, valid at its place in this story (index 6 onwards). Money out is
    authorised as the governance rules demand: proposals submitted on 2025-03-01 (seven days
    of publicity, 2 to 8 March, so votes and spending from 2025-03-09); the owners elect Wang to the committee and amend the charter to a
    committee quorum of 1 (so Wang's approval of the chair's proposals suffices); the owners
    of building 3 vote for the lift repair; the district office declares an emergency.
    """
    chair, treasurer, wang = key("chair"), key("treasurer"), key("wang")
    owner, jiedao = key("owner"), key("jiedao")

    def signed(signer: SigningKey, label: str, entry_type: str, at: str, body: Any) -> Entry:
        return sign_entry(
            signer, community=COMMUNITY, type=entry_type, body=body, at=at, entry_id=entry_id(label)
        )

    def proposal(label: str, at: str, **body: Any) -> Entry:
        return signed(chair, label, "proposal.submitted", at, body)

    election = proposal(
        "proposal-election",
        "2025-03-01T10:00:00+08:00",
        title="选举王委员 Elect Wang to the committee",
        matter="committee_election",
        needs="owners",
        description="Wang stands for the vacant committee seat.",
    )
    charter = proposal(
        "proposal-charter",
        "2025-03-01T10:05:00+08:00",
        title="管理规约修订 Charter: committee quorum 1",
        matter="charter",
        needs="owners",
        description="One committee approval (never the author's) authorises committee spending.",
        documents=[sha("charter 2025 text")],
    )
    repair = proposal(
        "proposal-lift",
        "2025-03-01T10:10:00+08:00",
        title="3号楼电梯门维修 Lift door repair, building 3",
        matter="maintenance_use",
        needs="owners",
        fund="maintenance",
        budget_fen=300_000,
        buildings=["3"],
        description="Replace the lift door rollers of building 3.",
        documents=[sha("quote Lift Co 2025-03")],
    )
    spending = {
        fund: proposal(
            f"proposal-{fund}",
            "2025-03-01T10:15:00+08:00",
            title=title,
            matter="spending",
            needs="owners" if fund == "public_revenue" else "committee",
            fund=fund,
            budget_fen=budget,
            description=title,
        )
        for fund, title, budget in (
            ("public_revenue", "Net parking revenue into the maintenance fund", 100_000),
            ("community", "Double Ninth lunch for elderly residents", 20_000),
            ("property", "Refund the 2025 property surplus", 10_000),
        )
    }
    emergency = proposal(
        "proposal-emergency",
        "2025-03-01T10:30:00+08:00",
        title="电梯停运应急维修 Emergency: lift stopped",
        matter="maintenance_use",
        needs="emergency",
        fund="maintenance",
        budget_fen=50_000,
        units=["3-1-502"],
        description="The lift of building 3 stopped with no alarm working.",
    )
    voted = "2025-03-09T09:00:00+08:00"  # the first day after the publicity period
    interest = signed(
        treasurer,
        "interest",
        "interest.credited",
        "2025-03-21T10:00:00+08:00",
        {"fund": "maintenance", "amount_fen": 3_222, "period": "2025 Q1", "reference": "BOC-INT"},
    )
    expense = signed(
        treasurer,
        "expense",
        "expense.paid",
        "2025-03-10T10:00:00+08:00",
        {
            "fund": "community",
            "category": "events",
            "amount_fen": 20_000,
            "payee": "Golden Bakery",
            "description": "Double Ninth lunch for elderly residents",
            "purpose": "elderly care 敬老",
            "proposal_id": spending["community"].id,
            "documents": [hashlib.sha256(b"invoice 0001").hexdigest()],
        },
    )
    objection = signed(
        owner,
        "objection",
        "objection.raised",
        "2025-03-12T20:00:00+08:00",
        {"target_id": expense.id, "text": "Who chose the bakery?"},
    )
    story = [
        signed(
            chair,
            "fee-schedule",
            "fee.schedule_set",
            "2025-03-01T09:00:00+08:00",
            {"rate_fen_per_m2": 300, "from_month": "2025-01"},
        ),
        signed(
            chair,
            "trustee-contract",
            "trustee.contract_set",
            "2025-03-01T09:10:00+08:00",
            {
                "trustee": "金色物业 Golden Property Services",
                "from_month": "2025-01",
                "basis_points": 1_000,
            },
        ),
        signed(
            treasurer,
            "owner-changed",
            "unit.owner_changed",
            "2025-03-01T09:20:00+08:00",
            {"unit": "3-1-502", "owner": "owner-0002", "reference": "sale 2025-03"},
        ),
        signed(
            chair,
            "owner-key",
            "key.registered",
            "2025-03-01T09:30:00+08:00",
            {"vkey": str(owner.verifier()), "role": "owner", "owner": "owner-0002"},
        ),
        election,
        charter,
        repair,
        *spending.values(),
        emergency,
        signed(
            jiedao,
            "emergency",
            "emergency.declared",
            "2025-03-03T09:00:00+08:00",
            {
                "proposal_id": emergency.id,
                "cap_fen": 50_000,
                "units": ["3-1-502"],
                "reason": "Lift stopped; confirmed by the street office on site.",
            },
        ),
        signed(
            owner,
            "ballot-election",
            "ballot.cast",
            voted,
            {"proposal_id": election.id, "choice": "yes"},
        ),
        signed(chair, "closed-election", "vote.closed", voted, {"proposal_id": election.id}),
        signed(
            chair,
            "wang-registered",
            "key.registered",
            "2025-03-09T10:00:00+08:00",
            {"vkey": str(wang.verifier()), "role": "committee", "election_id": election.id},
        ),
        signed(
            chair,
            "ballot-charter",
            "ballot.recorded",
            voted,
            {
                "proposal_id": charter.id,
                "owner": "owner-0002",
                "choice": "yes",
                "scan_sha256": sha("paper ballot owner-0002 charter"),
            },
        ),
        signed(chair, "closed-charter", "vote.closed", voted, {"proposal_id": charter.id}),
        signed(
            chair,
            "charter-amended",
            "charter.amended",
            "2025-03-09T11:00:00+08:00",
            {
                "committee_quorum": 1,
                "proposal_id": charter.id,
                "text_sha256": sha("charter 2025 text"),
            },
        ),
        signed(
            owner, "ballot-lift", "ballot.cast", voted, {"proposal_id": repair.id, "choice": "yes"}
        ),
        signed(chair, "closed-lift", "vote.closed", voted, {"proposal_id": repair.id}),
        signed(
            chair,
            "ballot-revenue",
            "ballot.recorded",
            voted,
            {
                "proposal_id": spending["public_revenue"].id,
                "owner": "owner-0002",
                "choice": "yes",
                "scan_sha256": sha("paper ballot owner-0002 common revenue"),
            },
        ),
        signed(
            chair,
            "closed-revenue",
            "vote.closed",
            voted,
            {"proposal_id": spending["public_revenue"].id},
        ),
        *(
            signed(
                wang,
                f"approval-{fund}",
                "approval.signed",
                "2025-03-09T12:00:00+08:00",
                {"subject_id": submitted.id},
            )
            for fund, submitted in spending.items()
            if fund != "public_revenue"  # common revenue is spent as the owners decide
        ),
        interest,
        signed(
            treasurer,
            "revenue",
            "revenue.received",
            "2025-03-05T10:00:00+08:00",
            {"source": "parking", "amount_fen": 120_000, "description": "parking, February"},
        ),
        signed(
            treasurer,
            "donation",
            "donation.received",
            "2025-03-06T10:00:00+08:00",
            {
                "kind": "donation",
                "amount_fen": 50_000,
                "purpose": "elderly care 敬老",
                "donor": "Golden Bakery",
                "donor_consent": True,
            },
        ),
        expense,
        signed(
            treasurer,
            "draw",
            "maintenance.drawn",
            "2025-03-10T11:00:00+08:00",
            {
                "amount_fen": 300_000,
                "buildings": ["3"],
                "payee": "Lift Co",
                "description": "lift door repair, building 3",
                "proposal_id": repair.id,
            },
        ),
        signed(
            treasurer,
            "transfer",
            "transfer.made",
            "2025-03-10T12:00:00+08:00",
            {
                "from_fund": "public_revenue",
                "to_fund": "maintenance",
                "amount_fen": 100_000,
                "description": "net parking revenue into the maintenance fund",
                "proposal_id": spending["public_revenue"].id,
            },
        ),
        signed(
            treasurer,
            "remuneration",
            "trustee.remunerated",
            "2025-03-10T10:00:00+08:00",
            {"month": "2025-01", "amount_fen": 2_685},
        ),
        signed(
            treasurer,
            "surplus",
            "surplus.refunded",
            "2025-03-11T10:00:00+08:00",
            {
                "amount_fen": 10_000,
                "year": 2025,
                "description": "refund by area",
                "proposal_id": spending["property"].id,
            },
        ),
        *(
            signed(
                treasurer,
                f"progress-{stage}",
                "project.progressed",
                f"2025-03-1{n}T10:00:00+08:00",
                {"proposal_id": repair.id, "stage": stage, "documents": [sha(f"lift {stage}")]},
            )
            for n, stage in enumerate(("contracted", "started", "completed"), start=2)
        ),
        signed(
            chair,
            "review",
            "project.reviewed",
            "2025-03-20T10:00:00+08:00",
            {"proposal_id": repair.id, "rating": 4, "summary": "The lift runs quietly again."},
        ),
        objection,
        signed(
            treasurer,
            "answer",
            "objection.answered",
            "2025-03-13T10:00:00+08:00",
            {
                "objection_id": objection.id,
                "outcome": "explained",
                "text": "Three quotes were compared; the bakery was cheapest (documents attached).",
            },
        ),
        signed(
            treasurer,
            "reversal",
            "entry.reversed",
            "2025-03-22T10:00:00+08:00",
            {"entry_id": interest.id, "reason": "interest belongs to the next quarter"},
        ),
        signed(
            treasurer,
            "bank",
            "bank.balance_asserted",
            "2025-03-31T18:00:00+08:00",
            {"fund": "maintenance", "balance_fen": 874_000, "as_of": "2025-03-31"},
        ),
    ]
    state = CommunityState()
    for entry in [*log, *story]:
        apply(state, entry)
    statement = sign_entry(
        treasurer,
        community=COMMUNITY,
        type="statement.published",
        body=expected_body(state, "2025Q1"),
        at=statement_at("2025Q1"),
        entry_id=statement_id(COMMUNITY, "2025Q1"),
    )
    apply(state, statement)
    return [*story, statement]


class TinyLog:
    """The tiny log's bytes, tree, signed checkpoint, policy and key chain."""

    def __init__(self) -> None:
        self.entries = log_entries()
        self.entry_bytes = [e.entry_bytes() for e in self.entries]
        self.tree = MemoryTree([leaf_hash(b) for b in self.entry_bytes])
        self.size = self.tree.size
        self.checkpoint_text = format_checkpoint(ORIGIN, self.size, self.tree.root())
        signed = sign_note(self.checkpoint_text, [key("log")])
        self.checkpoint = add_signature_lines(signed, [cosign(signed, key("witness"), COSIGNED_AT)])
        self.policy = str(
            build_policy(key("log").verifier(), [(WITNESS_NAME, key("witness").verifier())], "all")
        )

    def proof(self, index: int) -> list[bytes]:
        return inclusion_proof(index, self.size, self.tree)

    def keychain(self, indices: tuple[int, ...] = (0, 1)) -> str:
        items = [KeychainItem(i, self.entry_bytes[i], self.proof(i)) for i in indices]
        return format_keychain(self.checkpoint, items)

    def receipt(self, at: int, **changes: Any) -> str:
        """The receipt of entry ``at``, with any TlogProof field replaced by ``changes``."""
        fields: dict[str, Any] = {
            "index": at,
            "hashes": tuple(self.proof(at)),
            "checkpoint_note": self.checkpoint,
            "extra": self.entry_bytes[at],
        }
        fields.update(changes)
        return format_tlog_proof(TlogProof(**fields))

    def files(self) -> dict[str, bytes]:
        """The log as published (C2SP tlog-tiles layout), under ``log/``."""
        leaves = [leaf_hash(b) for b in self.entry_bytes]
        tiles = build_tiles(lambda *_: b"", 0, leaves)
        tiles += build_entry_bundles(lambda *_: b"", 0, self.entry_bytes)
        out = {f"log/{tile.path}": tile.data for tile in tiles}
        out["log/checkpoint"] = self.checkpoint.encode()
        out["log/policy"] = self.policy.encode()
        out["log/keychain"] = self.keychain().encode()
        return out


# --- keys -----------------------------------------------------------------------------------


def keys_file() -> dict[str, Any]:
    keys = []
    for handle, (name, key_type, role) in KEY_SPECS.items():
        signing = key(handle)
        keys.append(
            {
                "handle": handle,
                "name": name,
                "type": key_type,
                "role": role,
                "vkey": str(signing.verifier()),
                "key_id": signing.verifier().key_id_hex,
                "private": signing.private_line(),
            }
        )
    return {
        "description": "TEST keys only, from public seeds (see make_vectors.seed): never use them "
        "for real. 'role' is the key's role in the golden community (null for log, witness and "
        "unregistered keys).",
        "community": COMMUNITY,
        "origin": ORIGIN,
        "keys": keys,
    }


# --- entries --------------------------------------------------------------------------------


def raw_signed(signer: SigningKey, unsigned: dict[str, Any]) -> dict[str, Any]:
    """Sign any object exactly as the format says, without the parser's checks (for tampering)."""
    signature = signer.sign(SIGNING_CONTEXT + jcs(unsigned))
    return {**unsigned, "sig": b64(signature)}


def flip_signature(entry: Entry) -> dict[str, Any]:
    raw = bytearray(entry.signature())
    raw[10] ^= 0x01
    return {**entry.as_dict(), "sig": b64(bytes(raw))}


def entry_vectors(log: TinyLog) -> dict[str, dict[str, Any]]:
    founded, registered, unit, fee, deposit, _fee2 = log.entries
    chair, treasurer = key("chair"), key("treasurer")
    story = money_story(log.entries)
    expense = next(e for e in story if e.type == "expense.paid")
    revoked = sign_entry(
        key("wang"),
        community=COMMUNITY,
        type="key.revoked",
        body={"name": f"{COMMUNITY}/wang", "reason": "moved away"},
        at="2025-03-01T09:00:00+08:00",
        entry_id=entry_id("wang-revoked"),
    )
    fee_unsigned = fee.unsigned()

    def logged(description: str, data: bytes, expect: str) -> dict[str, Any]:
        return {"description": description, "entry_bytes_b64": b64(data), "expect": expect}

    def submitted(description: str, text: str, expect: str) -> dict[str, Any]:
        return {"description": description, "submission": text, "expect": expect}

    def resigned(**changes: Any) -> bytes:
        return jcs(raw_signed(treasurer, {**fee_unsigned, **changes}))

    pretty = json.dumps(fee.as_dict(), indent=1, ensure_ascii=False)
    fee_jcs = fee.entry_bytes().decode()
    other_key_id = key("wang").verifier().key_id_hex

    def resigned_expense(**body: Any) -> bytes:
        return jcs(raw_signed(treasurer, {**expense.unsigned(), "body": {**expense.body, **body}}))

    money: dict[str, dict[str, Any]] = {}
    for item in story:  # the first entry of each type (later ones are valid too, not vectors)
        name = f"valid-{item.type.replace('.', '-').replace('_', '-')}"
        if item.type == "key.registered" and item.body["role"] == "committee":
            name = "valid-key-registered-committee"  # elected: cites the owners' election
        money.setdefault(
            name,
            logged(
                f"{item.type}: valid on top of the tiny log (make_vectors.money_story)",
                item.entry_bytes(),
                "ok",
            ),
        )
    expense_jcs = expense.entry_bytes().decode()
    money.update(
        {
            "tampered-money-amount-string": logged(
                "expense.paid with amount_fen as a string (signed over)",
                resigned_expense(amount_fen="20000"),
                "malformed",
            ),
            "tampered-money-negative-amount": logged(
                "expense.paid with a negative amount (signed over): money out is never negative",
                resigned_expense(amount_fen=-20_000),
                "malformed",
            ),
            "tampered-money-zero-amount": logged(
                "expense.paid of zero fen (signed over)",
                resigned_expense(amount_fen=0),
                "malformed",
            ),
            "tampered-money-float-amount": submitted(
                "expense.paid with a floating-point amount in yuan",
                expense_jcs.replace('"amount_fen":20000', '"amount_fen":200.0'),
                "malformed",
            ),
        }
    )
    return money | {
        "valid-community-founded": logged(
            "index 0 of the tiny log: the founding entry", founded.entry_bytes(), "ok"
        ),
        "valid-key-registered": logged(
            "the committee registers the treasurer's key", registered.entry_bytes(), "ok"
        ),
        "valid-key-revoked": logged("a committee key revokes itself", revoked.entry_bytes(), "ok"),
        "valid-unit-registered": logged("a unit with its area", unit.entry_bytes(), "ok"),
        "valid-contribution-property": logged(
            "a property fee for a month", fee.entry_bytes(), "ok"
        ),
        "valid-contribution-maintenance": logged(
            "a first maintenance deposit", deposit.entry_bytes(), "ok"
        ),
        "valid-submission-pretty": submitted(
            "a submission may be any JSON serialization; it parses to the JCS bytes", pretty, "ok"
        ),
        "tampered-signature-byte": logged(
            "one bit of the signature flipped", jcs(flip_signature(fee)), "bad_signature"
        ),
        "tampered-amount": logged(
            "amount_fen changed after signing, bytes re-canonicalised",
            jcs({**fee.as_dict(), "body": {**fee.body, "amount_fen": 268_500}}),
            "bad_signature",
        ),
        "tampered-unknown-field": logged(
            "an envelope field the format does not have (signed over)",
            resigned(note="hello"),
            "unknown_field",
        ),
        "tampered-unknown-body-field": logged(
            "a body field the type does not have (signed over)",
            resigned(body={**fee.body, "payer": "Mr Wang"}),
            "unknown_field",
        ),
        "tampered-float": submitted(
            "a floating-point amount",
            fee_jcs.replace('"amount_fen":26850', '"amount_fen":268.5'),
            "malformed",
        ),
        "tampered-duplicate-key": submitted(
            "a JSON object with a key twice",
            fee_jcs.replace('"amount_fen":26850', '"amount_fen":1,"amount_fen":26850'),
            "malformed",
        ),
        "tampered-big-integer": submitted(
            "an integer beyond 2^53 - 1",
            fee_jcs.replace('"amount_fen":26850', '"amount_fen":9007199254740992'),
            "malformed",
        ),
        "tampered-non-canonical": logged(
            "valid entry, but the logged bytes are not its JCS form",
            pretty.encode(),
            "non_canonical",
        ),
        "tampered-too-large": logged(
            "over 16,384 bytes (an unknown field pads it; size is checked first)",
            resigned(padding="x" * 16_400),
            "too_large",
        ),
        "tampered-id-upper-case": logged(
            "id is a UUID in upper case", resigned(id=fee.id.upper()), "malformed"
        ),
        "tampered-id-not-uuid": logged(
            "id is not a UUID", resigned(id="payment-2025-01"), "malformed"
        ),
        "tampered-id-trailing-newline": logged(
            "id is a UUID followed by a newline", resigned(id=fee.id + "\n"), "malformed"
        ),
        "tampered-at-no-zone": logged(
            "at has no zone", resigned(at="2025-01-03T11:00:00"), "malformed"
        ),
        "tampered-at-fraction": logged(
            "at has fractional seconds", resigned(at="2025-01-03T11:00:00.5Z"), "malformed"
        ),
        "tampered-wrong-key-id": logged(
            "signed by the treasurer, but key_id names another key",
            resigned(key_id=other_key_id),
            "unknown_signer",
        ),
        "tampered-founded-by-stranger": logged(
            "signed by a key not in keys.json's community keys",
            jcs(
                raw_signed(
                    key("stranger"),
                    {
                        **founded.unsigned(),
                        "signer": key("stranger").name,
                        "key_id": key("stranger").verifier().key_id_hex,
                    },
                )
            ),
            "unknown_signer",
        ),
        "tampered-chair-signs-as-treasurer": logged(
            "the chair's signature over an entry naming the treasurer as signer",
            jcs(raw_signed(chair, fee_unsigned)),
            "bad_signature",
        ),
    }


# --- checkpoints ------------------------------------------------------------------------------


def checkpoint_vectors(log: TinyLog) -> dict[str, dict[str, Any]]:
    log_only = sign_note(log.checkpoint_text, [key("log")])
    no_witness_policy = str(build_policy(key("log").verifier(), [], "none"))
    impostor = sign_note(log.checkpoint_text, [key("impostor-log")])
    impostor = add_signature_lines(impostor, [cosign(impostor, key("witness"), COSIGNED_AT)])
    witness_only = log.checkpoint.split("\n\n")[0] + "\n\n" + log.checkpoint.split("\n")[-2] + "\n"
    other_text = format_checkpoint("other.example/c/golden/log", log.size, log.tree.root())
    other = sign_note(other_text, [key("other-log")])
    other = add_signature_lines(other, [cosign(other, key("witness"), COSIGNED_AT)])
    resized = log.checkpoint.replace(f"\n{log.size}\n", f"\n{log.size + 1}\n", 1)
    extension = sign_note(log.checkpoint_text + "extension line\n", [key("log")])

    def vector(
        description: str, note: str, expect: str, policy: str = log.policy
    ) -> dict[str, Any]:
        return {"description": description, "checkpoint": note, "policy": policy, "expect": expect}

    return {
        "ok-cosigned": vector(
            "signed by the log key, cosigned by the witness", log.checkpoint, "ok"
        ),
        "ok-no-witness-policy": vector(
            "a policy with quorum none needs only the log's signature",
            log_only,
            "ok",
            no_witness_policy,
        ),
        "missing-cosignature": vector(
            "the log's signature only, but the policy needs the witness", log_only, "policy"
        ),
        "missing-log-signature": vector(
            "the witness's cosignature only", witness_only, "bad_checkpoint"
        ),
        "wrong-key": vector(
            "signed by another key with the log's name (its key id differs)",
            impostor,
            "bad_checkpoint",
        ),
        "origin-mismatch": vector(
            "a checkpoint for another origin, validly signed by that log's key",
            other,
            "policy",
        ),
        "modified-size": vector("the size changed after signing", resized, "bad_checkpoint"),
        "extension-line": vector(
            "a checkpoint body with an extension line (this project writes and accepts none)",
            extension,
            "bad_checkpoint",
            no_witness_policy,
        ),
    }


# --- receipts ------------------------------------------------------------------------------


def receipt_vectors(log: TinyLog) -> dict[str, dict[str, Any]]:
    index = 3
    keychain = log.keychain()
    flipped = list(log.proof(index))
    flipped[0] = bytes([flipped[0][0] ^ 0x01]) + flipped[0][1:]
    altered = jcs(
        {**log.entries[index].as_dict(), "body": {**log.entries[index].body, "amount_fen": 1}}
    )

    def vector(
        description: str,
        receipt: str,
        expect: str,
        keychain_text: str | None = keychain,
        notices: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        return {
            "description": description,
            "receipt": receipt,
            "keychain": keychain_text,
            "policy": log.policy,
            "expect": expect,
            "notices": list(notices),
        }

    return {
        "ok": vector("a contribution's receipt with the key chain", log.receipt(index), "ok"),
        "ok-no-keychain": vector(
            "inclusion is checked, the signer is not: a notice, not a violation",
            log.receipt(index),
            "ok",
            None,
            ("signer_not_checked",),
        ),
        "ok-founding-entry": vector("the receipt of index 0", log.receipt(0), "ok"),
        "flipped-proof-hash": vector(
            "one bit of the first proof hash flipped",
            log.receipt(index, hashes=tuple(flipped)),
            "bad_proof",
        ),
        "wrong-index": vector(
            "the proof of index 3 presented as index 4", log.receipt(index, index=4), "bad_proof"
        ),
        "extra-altered": vector(
            "the extra line holds an altered entry (amount changed)",
            log.receipt(index, extra=altered),
            "bad_proof",
        ),
        "keychain-lacks-registration": vector(
            "the key chain omits the treasurer's key.registered entry",
            log.receipt(index),
            "unknown_signer",
            log.keychain((0,)),
        ),
    }


# --- all files ------------------------------------------------------------------------------


def build_files() -> dict[str, bytes]:
    """Every generated file under golden/, by relative path (README.md is written by hand)."""
    log = TinyLog()
    files: dict[str, bytes] = {"keys.json": dump(keys_file())}
    files["log.json"] = dump(
        {
            "description": "The tiny log: entries by index (base64 of the logged bytes), its "
            "checkpoint, policy and key chain. log/ holds the same log as C2SP tiles.",
            "origin": ORIGIN,
            "entries": [b64(b) for b in log.entry_bytes],
            "leaf_hashes": [b64(leaf_hash(b)) for b in log.entry_bytes],
            "root": b64(log.tree.root()),
            "checkpoint": log.checkpoint,
            "policy": log.policy,
            "keychain": log.keychain(),
            "expect": "ok",
        }
    )
    files.update(log.files())
    groups = {
        "entries": entry_vectors(log),
        "checkpoints": checkpoint_vectors(log),
        "receipts": receipt_vectors(log),
    }
    for folder, vectors in groups.items():
        for name, vector in vectors.items():
            files[f"{folder}/{name}.json"] = dump(vector)
    from statement_vectors import statement_files  # it imports this module

    files.update(statement_files())
    return files


def main(out: Path = GOLDEN) -> None:
    for path, data in sorted(build_files().items()):
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(target, file=sys.stderr)


if __name__ == "__main__":
    main()
