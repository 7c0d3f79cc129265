"""The witness's decision (C2SP tlog-witness add-checkpoint), its state on disk, and fork evidence.

A witness cosigns a checkpoint only when a trusted log key signed it and the log
grew from the last checkpoint it cosigned for that origin; every refusal has the
status tlog-witness gives it. Fork evidence (SPEC §6) is proven only by two
log-signed checkpoints that cannot both be true.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.witness import WitnessStore
from ledger.core.errors import MalformedError
from ledger.core.keys import KEY_TYPE_COSIGNATURE, SigningKey
from ledger.core.merkle import MemoryTree, consistency_proof, leaf_hash, root_at
from ledger.core.note import format_checkpoint, sign_note, verify_note_signature
from ledger.core.policy import build_policy
from ledger.core.witness import (
    AddCheckpoint,
    InconsistentCheckpointError,
    LogSignatureError,
    UnknownLogError,
    WitnessConflict,
    Witnessed,
    WitnessForkError,
    add_checkpoint,
    format_add_checkpoint,
    parse_add_checkpoint,
)
from verify.evidence import check_evidence, parse_evidence
from verify.memory import EVIDENCE_FORMAT

ORIGIN = "example.org/c/acme/log"
LOG = SigningKey.generate(ORIGIN)
WITNESS = SigningKey.generate("witness.example/w1", KEY_TYPE_COSIGNATURE)
NOW = 1_767_225_600


def tree(n: int, tag: str = "") -> MemoryTree:
    return MemoryTree([leaf_hash(f"{tag}entry {i}".encode()) for i in range(n)])


def note(t: MemoryTree, size: int, key: SigningKey = LOG) -> str:
    return sign_note(format_checkpoint(key.name, size, root_at(size, t)), [key])


def request(t: MemoryTree, old: int, new: int, key: SigningKey = LOG) -> AddCheckpoint:
    proof = consistency_proof(old, new, t) if 0 < old < new else []
    return AddCheckpoint(old, tuple(proof), note(t, new, key))


def witnessed(t: MemoryTree, size: int) -> Witnessed:
    _, record = add_checkpoint(WITNESS, [LOG.verifier()], request(t, 0, size), None, NOW)
    return record


# --- the request body ----------------------------------------------------------------------


def test_request_body_is_the_c2sp_format() -> None:
    t = tree(7)
    body = format_add_checkpoint(3, consistency_proof(3, 7, t), note(t, 7))
    head, _, rest = body.partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == "old 3"
    assert [base64.b64decode(h) for h in lines[1:]] == consistency_proof(3, 7, t)
    assert rest == note(t, 7)
    parsed = parse_add_checkpoint(body.encode())
    assert (parsed.old_size, list(parsed.proof), parsed.checkpoint_note) == (
        3,
        consistency_proof(3, 7, t),
        note(t, 7),
    )


@pytest.mark.parametrize(
    "body",
    ["old 03\n\n", "new 3\n\n", "old 3\nnot-base64\n\n", "old 3\n", "old -1\n\n"],
)
def test_malformed_requests_are_400(body: str) -> None:
    t = tree(3)
    with pytest.raises(MalformedError) as refused:
        parse_add_checkpoint(body + note(t, 3))
    assert refused.value.status == 400


# --- the decision ----------------------------------------------------------------------------


def test_first_checkpoint_is_cosigned_and_remembered() -> None:
    """Given a witness that never saw the log, when asked with old size 0, then it cosigns
    and remembers that checkpoint (the cosignature verifies with its vkey)."""
    t = tree(5)
    line, record = add_checkpoint(WITNESS, [LOG.verifier()], request(t, 0, 5), None, NOW)
    assert (record.origin, record.size, record.root) == (ORIGIN, 5, t.root(5))
    verify_note_signature(note(t, 5) + line, WITNESS.verifier())
    assert record.note == note(t, 5) + line


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(0, 40))
def test_a_grown_log_is_cosigned_with_its_proof(old: int, grow: int) -> None:
    """Given the witness last cosigned size ``old``, when the log (grown by any number of
    entries) comes with its consistency proof, then it is cosigned and the record moves."""
    t = tree(old + grow)
    last = witnessed(t, old)
    _, record = add_checkpoint(
        WITNESS, [LOG.verifier()], request(t, old, old + grow), last, NOW + 1
    )
    assert record.size == old + grow


def test_wrong_old_size_is_409_with_the_witness_size() -> None:
    t = tree(9)
    last = witnessed(t, 4)
    with pytest.raises(WitnessConflict) as refused:
        add_checkpoint(WITNESS, [LOG.verifier()], request(t, 0, 9), last, NOW)
    assert (refused.value.status, refused.value.latest_size) == (409, 4)


def test_same_size_other_root_is_refused_as_a_fork() -> None:
    honest, forked = tree(6), tree(6, "forged ")
    last = witnessed(honest, 6)
    with pytest.raises(WitnessForkError) as refused:
        add_checkpoint(WITNESS, [LOG.verifier()], request(forked, 6, 6), last, NOW)
    assert refused.value.status == 409


def test_inconsistent_growth_is_422() -> None:
    """Given the witness cosigned size 4 of one history, when a larger tree of another
    history comes with its own (valid for itself) proof, then it is refused with 422."""
    honest, forked = tree(4), tree(10, "forged ")
    last = witnessed(honest, 4)
    with pytest.raises(InconsistentCheckpointError) as refused:
        add_checkpoint(WITNESS, [LOG.verifier()], request(forked, 4, 10), last, NOW)
    assert refused.value.status == 422


def test_unknown_origin_is_404_and_a_stranger_signature_403() -> None:
    t = tree(3)
    other = SigningKey.generate("elsewhere.example/log")
    with pytest.raises(UnknownLogError) as unknown:
        add_checkpoint(WITNESS, [LOG.verifier()], request(t, 0, 3, other), None, NOW)
    assert unknown.value.status == 404
    impostor = SigningKey.generate(ORIGIN)  # the right name, another key
    with pytest.raises(LogSignatureError) as forged:
        add_checkpoint(WITNESS, [LOG.verifier()], request(t, 0, 3, impostor), None, NOW)
    assert forged.value.status == 403


def test_old_size_beyond_the_checkpoint_is_400() -> None:
    t = tree(3)
    with pytest.raises(MalformedError):
        add_checkpoint(WITNESS, [LOG.verifier()], AddCheckpoint(5, (), note(t, 3)), None, NOW)


# --- the state on disk -------------------------------------------------------------------------


def test_store_survives_a_restart_and_never_rolls_back(tmp_path: Path) -> None:
    """Given a witness that cosigned size 8, when it restarts (a new store on the same folder),
    then it still knows size 8: an older size is a 409 and a fork at 8 is refused and kept."""
    t, forked = tree(8), tree(8, "forged ")
    WitnessStore(tmp_path, WITNESS, lambda: NOW).add(request(t, 0, 8), [LOG.verifier()])
    again = WitnessStore(tmp_path, WITNESS, lambda: NOW)
    last = again.last(ORIGIN)
    assert last is not None and last.size == 8
    with pytest.raises(WitnessConflict):
        again.add(request(t, 0, 5), [LOG.verifier()])
    with pytest.raises(WitnessForkError):
        again.add(request(forked, 8, 8), [LOG.verifier()])
    assert len(list((tmp_path / "refused").iterdir())) == 1
    state = json.loads((tmp_path / "witness-state.json").read_text())
    assert state["logs"][ORIGIN]["size"] == 8


def test_store_refuses_another_witness_state(tmp_path: Path) -> None:
    t = tree(2)
    WitnessStore(tmp_path, WITNESS).add(request(t, 0, 2), [LOG.verifier()])
    other = SigningKey.generate("witness.example/w2", KEY_TYPE_COSIGNATURE)
    with pytest.raises(MalformedError):
        WitnessStore(tmp_path, other).last(ORIGIN)


# --- fork evidence ---------------------------------------------------------------------------


POLICY = build_policy(LOG.verifier(), [("w1", WITNESS.verifier())], "all")


def evidence(older: str, newer: str, proof: list[bytes]) -> str:
    return json.dumps(
        {
            "format": EVIDENCE_FORMAT,
            "origin": ORIGIN,
            "older": older,
            "newer": newer,
            "consistency": [base64.b64encode(h).decode() for h in proof],
        }
    )


def test_same_size_other_root_proves_a_fork() -> None:
    report = check_evidence(evidence(note(tree(5), 5), note(tree(5, "x"), 5), []), POLICY)
    assert report.ok and report.facts["fork_proven"] is True


@pytest.mark.parametrize("old", [3, 4, 6, 8])  # 4 and 8: powers of two, the subtree prepended
def test_a_proof_from_the_larger_log_proves_a_fork(old: int) -> None:
    """Given a checkpoint of size ``old`` and a larger one of another history, when the
    larger log's consistency proof is given, then it leads to the larger root and to
    another root for size ``old``: fork proven."""
    honest, forked = tree(old), tree(11, "x")
    proof = consistency_proof(old, 11, forked)
    if old & (old - 1) == 0:
        proof = [root_at(old, forked), *proof]
    report = check_evidence(evidence(note(honest, old), note(forked, 11), proof), POLICY)
    assert report.ok, report.findings


@pytest.mark.parametrize("old", [3, 4])
def test_a_consistent_pair_is_not_a_fork(old: int) -> None:
    t = tree(11)
    proof = consistency_proof(old, 11, t)
    if old & (old - 1) == 0:
        proof = [root_at(old, t), *proof]
    report = check_evidence(evidence(note(t, old), note(t, 11), proof), POLICY)
    assert not report.ok and report.facts["fork_proven"] is False


def test_evidence_not_signed_by_the_log_key_proves_nothing() -> None:
    stranger = SigningKey.generate(ORIGIN)
    report = check_evidence(evidence(note(tree(5), 5), note(tree(5, "x"), 5, stranger), []), POLICY)
    assert not report.ok


def test_a_proof_that_misses_the_larger_root_proves_nothing() -> None:
    honest, forked = tree(3), tree(11, "x")
    proof = consistency_proof(3, 11, tree(11, "y"))
    report = check_evidence(evidence(note(honest, 3), note(forked, 11), proof), POLICY)
    assert not report.ok


def test_unreadable_evidence_is_malformed() -> None:
    with pytest.raises(MalformedError):
        parse_evidence("{}")
    with pytest.raises(MalformedError):
        parse_evidence("not json")
