"""C2SP tlog-proof files: format, strict parsing and verification against a policy."""

from __future__ import annotations

import base64

import pytest

from ledger.core.errors import CheckpointError, MalformedError, PolicyError, ProofError
from ledger.core.keys import KEY_TYPE_COSIGNATURE, SigningKey
from ledger.core.merkle import MemoryTree, inclusion_proof, leaf_hash
from ledger.core.note import add_signature_lines, cosign, format_checkpoint, sign_note
from ledger.core.policy import build_policy
from ledger.core.tlogproof import (
    HEADER,
    TlogProof,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)

ORIGIN = "log.example/c/demo/log"
LOG = SigningKey.generate(ORIGIN)
WITNESS = SigningKey.generate("witness.example/w", KEY_TYPE_COSIGNATURE)
POLICY = build_policy(LOG.verifier(), [("w", WITNESS.verifier())], "all")
ENTRIES = [f'{{"n":{i}}}'.encode() for i in range(11)]
TREE = MemoryTree([leaf_hash(e) for e in ENTRIES])
NOTE = sign_note(format_checkpoint(ORIGIN, 11, TREE.root()), [LOG])
NOTE = add_signature_lines(NOTE, [cosign(NOTE, WITNESS, 1700000000)])


def _receipt(index: int) -> TlogProof:
    return TlogProof(index, tuple(inclusion_proof(index, 11, TREE)), NOTE, ENTRIES[index])


def test_format_is_the_spec_layout() -> None:
    proof = _receipt(5)
    text = format_tlog_proof(proof)
    lines = text.split("\n")
    assert lines[0] == HEADER
    assert lines[1] == "extra " + base64.b64encode(ENTRIES[5]).decode()
    assert lines[2] == "index 5"
    assert lines[3 : 3 + len(proof.hashes)] == [base64.b64encode(h).decode() for h in proof.hashes]
    assert lines[3 + len(proof.hashes)] == ""
    assert text.endswith("\n\n" + NOTE)
    assert str(proof) == text


@pytest.mark.parametrize("extra", [b"entry", None])
def test_round_trip(extra: bytes | None) -> None:
    proof = TlogProof(3, tuple(inclusion_proof(3, 11, TREE)), NOTE, extra)
    assert parse_tlog_proof(format_tlog_proof(proof)) == proof
    assert parse_tlog_proof(format_tlog_proof(proof).encode()) == proof


def test_single_entry_tree_has_no_hash_lines() -> None:
    tree = MemoryTree([leaf_hash(b"only")])
    note = sign_note(format_checkpoint(ORIGIN, 1, tree.root()), [LOG])
    text = format_tlog_proof(TlogProof(0, (), note, b"only"))
    assert text.startswith(f"{HEADER}\nextra b25seQ==\nindex 0\n\n")
    verify_tlog_proof(text, None, build_policy(LOG.verifier()))


def _text(index: int = 5) -> str:
    return format_tlog_proof(_receipt(index))


@pytest.mark.parametrize(
    "text",
    [
        _text().replace(HEADER, "c2sp.org/tlog-proof@v2"),
        _text().replace("index 5", "index 05"),
        _text().replace("index 5", "index +5"),
        _text().replace("index 5", "index5"),
        _text().replace("extra ", "extra  "),
        _text().replace("\nindex 5\n", "\n"),
        _text().split("\n\n")[0],
        _text().replace("\n\n", "\n\n\n", 1),
    ],
)
def test_parse_is_strict(text: str) -> None:
    with pytest.raises((MalformedError, CheckpointError)):
        parse_tlog_proof(text)


def test_bad_proof_hash_line_is_refused() -> None:
    lines = _text().split("\n")
    lines[3] = lines[3][:-1]
    with pytest.raises(MalformedError, match="proof line 1"):
        parse_tlog_proof("\n".join(lines))


def test_verify_receipt_from_extra() -> None:
    verified = verify_tlog_proof(_text(), None, POLICY)
    assert (verified.size, verified.witnesses) == (11, ("w",))


def test_verify_with_a_given_leaf_hash() -> None:
    proof = TlogProof(7, tuple(inclusion_proof(7, 11, TREE)), NOTE)
    verify_tlog_proof(proof, leaf_hash(ENTRIES[7]), POLICY)
    with pytest.raises(ProofError, match="no extra"):
        verify_tlog_proof(proof, None, POLICY)


def test_tampered_extra_fails() -> None:
    proof = _receipt(5)
    forged = TlogProof(proof.index, proof.hashes, proof.checkpoint_note, b'{"n":6}')
    with pytest.raises(ProofError):
        verify_tlog_proof(forged, None, POLICY)


def test_wrong_index_fails() -> None:
    proof = _receipt(5)
    with pytest.raises(ProofError):
        verify_tlog_proof(TlogProof(4, proof.hashes, NOTE, proof.extra), None, POLICY)
    with pytest.raises(ProofError):
        verify_tlog_proof(TlogProof(11, proof.hashes, NOTE, proof.extra), None, POLICY)


def test_policy_is_enforced() -> None:
    uncosigned = sign_note(format_checkpoint(ORIGIN, 11, TREE.root()), [LOG])
    proof = TlogProof(5, tuple(inclusion_proof(5, 11, TREE)), uncosigned, ENTRIES[5])
    with pytest.raises(PolicyError):
        verify_tlog_proof(proof, None, POLICY)
