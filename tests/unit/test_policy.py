"""C2SP tlog-policy: parsing, formatting, and checking cosigned checkpoints against a policy."""

from __future__ import annotations

import pytest

from ledger.core.errors import CheckpointError, PolicyError, PolicyFormatError
from ledger.core.keys import KEY_TYPE_COSIGNATURE, SigningKey
from ledger.core.merkle import EMPTY_ROOT
from ledger.core.note import add_signature_lines, cosign, format_checkpoint, sign_note
from ledger.core.policy import Policy, build_policy, format_policy

ORIGIN = "log.example/c/demo/log"
LOG = SigningKey.generate(ORIGIN)
WITNESSES = {
    name: SigningKey.generate(f"{name.lower()}.example/w", KEY_TYPE_COSIGNATURE)
    for name in ("X1", "X2", "X3", "Y1", "Y2")
}
BODY = format_checkpoint(ORIGIN, 7, EMPTY_ROOT)


def _cosigned(*names: str, log: SigningKey = LOG, body: str = BODY) -> str:
    note = sign_note(body, [log])
    return add_signature_lines(
        note, [cosign(note, WITNESSES[n], 1700000000 + i) for i, n in enumerate(names)]
    )


SPEC_POLICY = f"""# the example of c2sp.org/tlog-policy, with real keys
log {LOG.verifier()}

witness X1 {WITNESSES["X1"].verifier()}
witness X2 {WITNESSES["X2"].verifier()}
\twitness X3 {WITNESSES["X3"].verifier()} https://x3.example/
group X-witnesses 2 X1 X2 X3

witness Y1 {WITNESSES["Y1"].verifier()}
witness Y2 {WITNESSES["Y2"].verifier()}
group Y-witnesses any Y1 Y2
  # indented comment
group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def test_parse_the_spec_example() -> None:
    policy = Policy.parse(SPEC_POLICY)
    assert [str(log.vkey) for log in policy.logs] == [str(LOG.verifier())]
    assert list(policy.witnesses) == ["X1", "X2", "X3", "Y1", "Y2"]
    assert policy.witnesses["X3"].url == "https://x3.example/"
    assert policy.groups["X-witnesses"].threshold == 2
    assert policy.groups["Y-witnesses"].threshold == 1
    assert policy.groups["X-and-Y"].threshold == 2
    assert policy.quorum == "X-and-Y"


def test_format_round_trips() -> None:
    policy = Policy.parse(SPEC_POLICY)
    text = format_policy(policy)
    assert Policy.parse(text) == policy
    assert str(Policy.parse(text)) == text


def test_check_meets_nested_quorum() -> None:
    verified = Policy.parse(SPEC_POLICY).check(_cosigned("X1", "X3", "Y2"))
    assert (verified.origin, verified.size, verified.root) == (ORIGIN, 7, EMPTY_ROOT)
    assert verified.witnesses == ("X1", "X3", "Y2")
    assert verified.cosigned_at["X3"] == 1700000001
    assert str(verified.log_key) == str(LOG.verifier())


def test_check_says_what_is_missing() -> None:
    with pytest.raises(PolicyError) as info:
        Policy.parse(SPEC_POLICY).check(_cosigned("X1", "Y1"))
    en, zh = info.value.message("en"), info.value.message("zh")
    assert "X-witnesses needs 2 of" in en and "valid cosignatures from: X1, Y1" in en
    assert "X1, Y1" in zh and "法定人数" in zh


def test_unknown_signature_lines_do_not_count() -> None:
    stranger = SigningKey.generate("x1.example/w", KEY_TYPE_COSIGNATURE)  # same name, other key
    note = sign_note(BODY, [LOG])
    note = add_signature_lines(note, [cosign(note, stranger, 1), cosign(note, WITNESSES["Y1"], 2)])
    with pytest.raises(PolicyError):
        Policy.parse(SPEC_POLICY).check(note)


def test_a_bad_cosignature_rejects_the_note() -> None:
    note = _cosigned("X1", "X2", "Y1")
    forged = note.replace(
        _cosigned("X1").split("\n")[-2],
        _cosigned("X1", body=BODY.replace("7", "8")).split("\n")[-2],
    )
    with pytest.raises(CheckpointError, match="witness X1"):
        Policy.parse(SPEC_POLICY).check(forged)


def test_log_signature_is_required() -> None:
    other_log = SigningKey.generate(ORIGIN)  # right name, wrong key
    with pytest.raises(CheckpointError, match="no signature by the log key"):
        Policy.parse(SPEC_POLICY).check(_cosigned("X1", "X2", "Y1", log=other_log))


def test_origin_must_be_a_policy_log() -> None:
    body = format_checkpoint("elsewhere.example/log", 7, EMPTY_ROOT)
    with pytest.raises(PolicyError, match="no log in the policy"):
        Policy.parse(SPEC_POLICY).check(_cosigned("X1", "X2", "Y1", body=body))


def test_log_key_name_must_match_origin() -> None:
    misnamed = SigningKey.generate("other.example/log")
    policy = build_policy(misnamed.verifier(), [], "none")
    with pytest.raises(PolicyError):
        policy.check(sign_note(BODY, [misnamed]))


def test_quorum_none() -> None:
    policy = build_policy(LOG.verifier())
    assert policy.quorum == "none"
    assert policy.check(sign_note(BODY, [LOG])).witnesses == ()


def test_build_policy() -> None:
    witnesses = [(n, WITNESSES[n].verifier()) for n in ("X1", "X2", "X3")]
    policy = build_policy(LOG.verifier(), witnesses, 2)
    assert str(policy).splitlines()[-2:] == ["group witnesses 2 X1 X2 X3", "quorum witnesses"]
    policy.check(_cosigned("X2", "X3"))
    with pytest.raises(PolicyError):
        policy.check(_cosigned("X2"))
    assert build_policy(str(LOG.verifier()), witnesses[:1], "X1").quorum == "X1"
    assert build_policy(LOG.verifier(), witnesses, "none").quorum == "none"


def _bad(line: str) -> str:
    return f"log {LOG.verifier()}\nwitness X1 {WITNESSES['X1'].verifier()}\n{line}\nquorum none\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (_bad("frobnicate X1"), 3),
        (_bad("group G 1 X9"), 3),
        (_bad("group G 1 X1 X1"), 3),
        (_bad("group G 2 X1"), 3),
        (_bad("group G 0 X1"), 3),
        (_bad("group G 01 X1"), 3),
        (_bad("group G all"), 3),
        (_bad("group none any X1"), 3),
        (_bad("group X1 any X1"), 3),
        (_bad(f"witness X2 {WITNESSES['X1'].verifier()}"), 3),
        (_bad(f"witness X2 {LOG.verifier()}"), 3),
        (_bad(f"log {WITNESSES['X2'].verifier()}"), 3),
        (_bad(f"log {LOG.verifier()}"), 3),
        (_bad("log not-a-vkey"), 3),
        (_bad("quorum X1"), 4),
        (_bad("quorum"), 3),
        (f"log {LOG.verifier()}\nquorum X1\n", 2),
    ],
)
def test_policy_errors_name_the_line(text: str, line: int) -> None:
    with pytest.raises(PolicyFormatError) as info:
        Policy.parse(text)
    assert f"policy line {line}:" in info.value.message("en")
    assert f"第 {line} 行" in info.value.message("zh")


def test_policy_needs_a_quorum_and_no_control_characters() -> None:
    with pytest.raises(PolicyFormatError, match="no quorum"):
        Policy.parse(f"log {LOG.verifier()}\n")
    with pytest.raises(PolicyFormatError, match="control"):
        Policy.parse("quorum none\r\n")
