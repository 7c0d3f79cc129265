"""The HTTP service as a client drives it: the published log (SPEC §3-§4) and POST /entries,
with every status of issue 6 item 2 and the order of the checks (413, 400, 401, 403, 409,
200, 422, 201). The reads on the demo are in ``test_http_api.py``.

Each test founds a small community on SQLite with fresh keys (a committee chair,
a treasurer the chair registers, one unit) and serves it with ``create_app``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette 1.x warns at import that its TestClient wants httpx2 over httpx; the
    # warning is about the dependency, not about anything these tests do.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.core.entry import Entry, sign_entry
from ledger.core.keychain import fold_keychain, parse_keychain
from ledger.core.keys import SigningKey
from ledger.core.merkle import leaf_hash, verify_inclusion
from ledger.core.policy import Policy, build_policy
from ledger.core.tiles import (
    decode_entry_bundle,
    entries_path,
    entry_bundles_for_size,
    tile_path,
    tiles_for_size,
)
from ledger.store.publish import tile_bytes
from ledger.store.service import LedgerService
from verify.memory import CheckpointMemory
from verify.receipt import verify_receipt

AT = "2025-06-01T08:00:00Z"
HOST = "example.org"
COMMUNITY = "acme"
UNIT = "1-1-101"
IMMUTABLE = "public, max-age=31536000, immutable"
Response = Any  # the test client's response (httpx or httpx2, whichever Starlette uses)


@dataclass
class Served:
    """A small community behind the HTTP API."""

    client: TestClient
    service: LedgerService
    chair: SigningKey
    treasurer: SigningKey
    policy: str

    def sign(self, key: SigningKey, entry_type: str, body: dict[str, Any], **kw: Any) -> Entry:
        return sign_entry(key, community=COMMUNITY, type=entry_type, body=body, at=AT, **kw)

    def unit(self, code: str) -> Entry:
        body = {"unit": code, "building": "1", "area_cm2": 90_000, "owner": f"own-{code}"}
        return self.sign(self.treasurer, "unit.registered", body)

    def contribution(
        self,
        unit: str = UNIT,
        *,
        key: SigningKey | None = None,
        amount_fen: int = 45_600,
        **kw: Any,
    ) -> Entry:
        body = {"fund": "property", "unit": unit, "amount_fen": amount_fen, "month": "2025-05"}
        return self.sign(key or self.treasurer, "contribution.received", body, **kw)

    def post(self, data: bytes | str | Entry, community: str = COMMUNITY) -> Response:
        content = data.entry_bytes() if isinstance(data, Entry) else data
        return self.client.post(f"/c/{community}/entries", content=content)

    def get(self, path: str) -> Response:
        return self.client.get(f"/c/{COMMUNITY}/log/{path}")

    @property
    def size(self) -> int:
        return self.service.size(COMMUNITY)


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[Served]:
    origin = f"{HOST}/c/{COMMUNITY}/log"
    log_key = SigningKey.generate(origin)
    chair = SigningKey.generate(f"{COMMUNITY}/chair")
    treasurer = SigningKey.generate(f"{COMMUNITY}/treasurer")
    policy = str(build_policy(log_key.verifier(), [], "none"))
    service = LedgerService(sqlite_url, [log_key])
    founding_body = {
        "name": "Acme Gardens 阿克米花园",
        "origin": origin,
        "keys": [{"vkey": str(chair.verifier()), "role": "committee"}],
    }
    service.found(
        sign_entry(chair, community=COMMUNITY, type="community.founded", body=founding_body, at=AT),
        policy,
    )
    app = create_app(Settings(sqlite_url, tmp_path / "keys", HOST), service)
    with TestClient(app) as client:
        community = Served(client, service, chair, treasurer, policy)
        registration = {"vkey": str(treasurer.verifier()), "role": "treasurer"}
        service.submit(COMMUNITY, community.sign(chair, "key.registered", registration))
        service.submit(COMMUNITY, community.unit(UNIT))
        yield community
    service.close()


def assert_error(response: Response, status: int, code: str) -> None:
    """A refusal: the status, a JSON body with the stable code and both languages."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["message_zh"] and body["message_en"]


# --- the published log ----------------------------------------------------------------------


def test_checkpoint_is_text_that_meets_the_policy(served: Served) -> None:
    """Given a community of three entries,
    when a client fetches its checkpoint and its policy,
    then the checkpoint is plain text, signed by the log key as the policy requires, size 3."""
    checkpoint = served.get("checkpoint")
    policy = served.get("policy")

    assert checkpoint.status_code == policy.status_code == 200
    assert checkpoint.headers["content-type"].startswith("text/plain")
    assert policy.text == served.policy
    verified = Policy.parse(policy.text).check(checkpoint.text)
    assert (verified.origin, verified.size) == (f"{HOST}/c/{COMMUNITY}/log", 3)
    assert checkpoint.text == verified.note_text


def test_keychain_holds_the_key_entries_with_proofs(served: Served) -> None:
    """Given a community whose key entries are index 0 (founded) and 1 (treasurer),
    when a client fetches the key chain,
    then it is JSON for the published checkpoint whose items prove inclusion and fold
    into the community's keys."""
    response = served.get("keychain")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.text)["format"] == "glasspocket/keychain@v1"
    note, items = parse_keychain(response.text)
    verified = Policy.parse(served.policy).check(note)
    assert note == served.get("checkpoint").text
    assert [item.index for item in items] == [0, 1]
    for item in items:
        assert item.entry_bytes == served.service.entries(COMMUNITY, item.index, item.index + 1)[0]
        verify_inclusion(
            leaf_hash(item.entry_bytes), item.index, verified.size, item.proof, verified.root
        )
    keys = fold_keychain(note, items)
    assert set(keys.keys) == {served.chair.name, served.treasurer.name}


def test_tiles_are_the_stored_tiles_and_immutable(served: Served) -> None:
    """Given a community grown past one full tile (260 entries, checkpoints at 3 and 260),
    when a client fetches every hash tile and entry bundle of both checkpoints,
    then each is the stored tile's bytes, marked immutable, and the bundles hold the entries."""
    served.service.submit_batch(COMMUNITY, [served.unit(f"2-{n}") for n in range(257)])
    assert served.size == 260
    paths = {}
    for size in (3, 260):
        for level, index, width in tiles_for_size(size):
            paths[tile_path(level, index, width)] = (level, index, width)
        for index, width in entry_bundles_for_size(size):
            paths[entries_path(index, width)] = (-1, index, width)
    assert "tile/1/000.p/1" in paths and "tile/0/000.p/3" in paths

    for path, (level, index, width) in paths.items():
        response = served.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.content == tile_bytes(served.service, COMMUNITY, level, index, width)
        if level == -1:
            start = index * 256
            assert decode_entry_bundle(response.content, width) == served.service.entries(
                COMMUNITY, start, start + width
            )


@pytest.mark.parametrize("path", ["tile/0/001", "tile/0/000.p/4", "tile/1/000", "tile/entries/001"])
def test_a_tile_beyond_the_published_log_is_not_found(served: Served, path: str) -> None:
    """Given a community published at sizes 1, 2 and 3,
    when a client asks for a tile no published checkpoint has,
    then the answer is 404 with a JSON error body."""
    assert_error(served.get(path), 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/abc",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/0/0",
        "tile/64/000",
        "tile/0/x000/001",
    ],
)
def test_a_malformed_tile_path_is_a_bad_request(served: Served, path: str) -> None:
    """Given any community,
    when a client asks for a path that is not a canonical C2SP tile path,
    then the answer is 400 with a JSON error body."""
    assert_error(served.get(path), 400, "malformed")


def test_an_unknown_community_is_not_found(served: Served) -> None:
    """Given a server without a community 'nowhere',
    when a client reads its log or posts an entry to it,
    then every answer is 404 with a JSON error body."""
    for what in ("checkpoint", "policy", "keychain", "tile/0/000.p/1"):
        assert_error(served.client.get(f"/c/nowhere/log/{what}"), 404, "not_found")
    stranger = sign_entry(
        served.chair,
        community="nowhere",
        type="unit.registered",
        body={"unit": "1", "building": "1", "area_cm2": 1, "owner": "own-1"},
        at=AT,
    )
    assert_error(served.post(stranger, community="nowhere"), 404, "not_found")


# --- submitting entries ---------------------------------------------------------------------


def test_a_new_entry_is_created_with_a_receipt(served: Served, tmp_path: Path) -> None:
    """Given a community with a registered unit,
    when the treasurer posts a contribution,
    then the answer is 201 with its index and a receipt that verifies under the policy."""
    entry = served.contribution()

    response = served.post(entry)

    assert response.status_code == 201, response.text
    result = response.json()
    assert result["index"] == 3 and result["id"] == entry.id and result["created"] is True
    assert served.size == 4
    report = verify_receipt(
        result["receipt"],
        Policy.parse(served.policy),
        served.get("keychain").text,
        CheckpointMemory(tmp_path / "memory"),
    )
    assert report.ok, report.as_dict()


def test_the_identical_entry_again_returns_the_original_result(served: Served) -> None:
    """Given an entry already posted,
    when it is posted again as other JSON text (pretty-printed, keys reordered),
    then the answer is 200 with the original index and created=false, and nothing is appended."""
    entry = served.contribution()
    first = served.post(entry).json()
    fields = entry.as_dict()

    again = served.post(json.dumps(dict(reversed(list(fields.items()))), indent=2))

    assert again.status_code == 200, again.text
    result = again.json()
    assert (result["index"], result["id"], result["created"]) == (first["index"], entry.id, False)
    assert served.size == 4


def _huge(fields: dict[str, Any], size: int) -> dict[str, Any]:
    return {**fields, "body": {**fields["body"], "reference": "x" * size}}


REFUSED = [
    # (name, make the request body from the community, status, code)
    (
        "duplicate id, other content",
        lambda s: s.contribution(amount_fen=1, entry_id=s.post(s.contribution()).json()["id"]),
        409,
        "duplicate_id",
    ),
    (
        "bad signature",
        lambda s: json.dumps(
            {**s.contribution().as_dict(), "body": {**s.contribution().body, "amount_fen": 1}}
        ),
        401,
        "bad_signature",
    ),
    (
        "unknown signer",
        lambda s: s.contribution(key=SigningKey.generate(f"{COMMUNITY}/stranger")),
        401,
        "unknown_signer",
    ),
    ("role not allowed", lambda s: s.contribution(key=s.chair), 403, "role_not_allowed"),
    ("unknown unit", lambda s: s.contribution(unit="9-9-909"), 422, "unknown_unit"),
    ("not JSON", lambda s: b"{this is not json", 400, "malformed"),
    ("not UTF-8", lambda s: b"\xff\xfe{}", 400, "malformed"),
    ("a JSON array", lambda s: "[1, 2, 3]", 400, "malformed"),
    ("missing fields", lambda s: json.dumps({"v": 1, "community": COMMUNITY}), 400, "malformed"),
    (
        "unknown field",
        lambda s: json.dumps({**s.contribution().as_dict(), "memo": "x"}),
        400,
        "unknown_field",
    ),
    (
        "float",
        lambda s: (
            s.contribution().entry_bytes().replace(b'"amount_fen":45600', b'"amount_fen":456.00')
        ),
        400,
        "malformed",
    ),
    (
        "body over 64 KiB",
        lambda s: s.contribution().entry_bytes() + b" " * (64 * 1024),
        413,
        "too_large",
    ),
    ("not JSON, over 64 KiB", lambda s: b"x" * (65 * 1024), 413, "too_large"),
    (
        "entry over 16 KiB in JCS form",
        lambda s: json.dumps(_huge(s.contribution().as_dict(), 16_400)),
        413,
        "too_large",
    ),
    (
        "over 16 KiB with an unknown field",
        lambda s: json.dumps({**_huge(s.contribution().as_dict(), 30_000), "memo": "x"}),
        413,
        "too_large",
    ),
    (
        "wrong community for the path",
        lambda s: sign_entry(
            s.treasurer,
            community="other",
            type="unit.registered",
            body={"unit": "1", "building": "1", "area_cm2": 1, "owner": "own-1"},
            at=AT,
        ),
        422,
        "wrong_community",
    ),
]
each_refusal = pytest.mark.parametrize(
    ("make", "status", "code"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)


@each_refusal
def test_a_refused_entry_gets_its_status_and_appends_nothing(
    served: Served, make: Any, status: int, code: str
) -> None:
    """Given a community and a request that SPEC §2 refuses,
    when it is posted,
    then the answer has the status of the refusal and a JSON body with its stable code and
    messages in both languages, and the log is unchanged."""
    data = make(served)
    size = served.size

    response = served.post(data)

    assert_error(response, status, code)
    assert served.size == size


def test_a_revoked_signer_is_refused(served: Served) -> None:
    """Given a treasurer whose key the committee has revoked,
    when the treasurer posts a contribution,
    then the answer is 401 unknown_signer and nothing is appended."""
    revoked = served.post(served.sign(served.chair, "key.revoked", {"name": served.treasurer.name}))
    assert revoked.status_code == 201

    response = served.post(served.contribution())

    assert_error(response, 401, "unknown_signer")
    assert served.size == 4


# --- the order of the checks (issue 6 item 2) -----------------------------------------------


def _reused_id(served: Served, **kw: Any) -> tuple[Entry, Entry]:
    """A contribution already logged, and another contribution signed under its id."""
    logged = served.contribution()
    assert served.post(logged).status_code == 201
    return logged, served.contribution(amount_fen=1, entry_id=logged.id, **kw)


def test_a_forged_copy_of_a_logged_entry_is_a_bad_signature_not_a_conflict(
    served: Served,
) -> None:
    """Given a logged contribution,
    when its JSON is posted with the amount changed and the signature left as it was,
    then the answer is 401 bad_signature: the signature is checked before the id."""
    logged, _ = _reused_id(served)
    forged = {**logged.as_dict(), "body": {**logged.body, "amount_fen": 1}}

    assert_error(served.post(json.dumps(forged)), 401, "bad_signature")
    assert served.size == 4


@pytest.mark.parametrize(
    ("signer", "status", "code"),
    [("stranger", 401, "unknown_signer"), ("chair", 403, "role_not_allowed")],
)
def test_a_reused_id_is_judged_by_signer_and_role_first(
    served: Served, signer: str, status: int, code: str
) -> None:
    """Given a logged contribution,
    when another entry under its id is signed by an unknown key, or by a role that may not
    make contributions,
    then the answer is 401 or 403, not 409: signer and role come before the id."""
    key = SigningKey.generate(f"{COMMUNITY}/stranger") if signer == "stranger" else served.chair
    _, reused = _reused_id(served, key=key)

    assert_error(served.post(reused), status, code)
    assert served.size == 4


def test_a_reused_id_with_a_valid_signature_is_a_conflict(served: Served) -> None:
    """Given a logged contribution,
    when the treasurer signs other content under its id,
    then the answer is 409 duplicate_id and the error names the id."""
    logged, reused = _reused_id(served)

    response = served.post(reused)

    assert_error(response, 409, "duplicate_id")
    assert response.json()["entry_id"] == logged.id


def test_the_identical_entry_again_has_the_original_receipt(served: Served) -> None:
    """Given a posted entry and no append since,
    when it is posted again,
    then the 200 answer carries the same index and the same receipt as the 201 did."""
    entry = served.contribution()
    first = served.post(entry)

    again = served.post(entry)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "created": False}


def test_the_identical_entry_again_after_its_signer_was_revoked(served: Served) -> None:
    """Given a contribution logged while the treasurer's key was live, then the key revoked,
    when the client retries the same entry,
    then the answer is still 200 with the original index: the entry is in the log, signed
    when the key was live; a retry is not a new submission."""
    entry = served.contribution()
    index = served.post(entry).json()["index"]
    revoked = served.sign(served.chair, "key.revoked", {"name": served.treasurer.name})
    assert served.post(revoked).status_code == 201

    again = served.post(entry)

    assert again.status_code == 200, again.text
    assert (again.json()["index"], again.json()["created"]) == (index, False)


def test_a_declared_length_over_64_kib_is_refused_before_reading(served: Served) -> None:
    """A Content-Length over 64 KiB is refused (413) whatever the body."""
    response = served.client.post(
        f"/c/{COMMUNITY}/entries",
        content=b"x" * (64 * 1024 + 1),
        headers={"content-type": "application/json"},
    )

    assert_error(response, 413, "too_large")
    assert served.size == 3


def test_an_entry_of_exactly_64_kib_of_whitespace_is_judged_on_its_content(
    served: Served,
) -> None:
    """The limit is over 64 KiB: a request of exactly 64 KiB is read and judged (201)."""
    data = served.contribution().entry_bytes()
    padded = data + b" " * (64 * 1024 - len(data))

    response = served.post(padded)

    assert response.status_code == 201, response.text


# --- the documented FastAPI route, reached without the lean path ------------------------------


def _routes_only(served: Served) -> TestClient:
    """A client of the app's FastAPI routes alone: its POSTs reach the documented route in
    ``api.app``, which a served app never does (``api.submit_path`` answers them first)."""
    app = served.client.app
    assert isinstance(app, FastAPI)

    async def routes(scope: Any, receive: Any, send: Any) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return TestClient(routes)


def test_the_documented_route_appends_as_the_lean_path_does(served: Served) -> None:
    """Given the app reached through its FastAPI routes alone,
    when a contribution is posted there and then again to the served app,
    then the route answers 201 with its index and receipt, and the served app answers 200
    with the same index, id and receipt: one submission, whichever way it came in."""
    entry = served.contribution()

    routed = _routes_only(served).post(f"/c/{COMMUNITY}/entries", content=entry.entry_bytes())
    again = served.post(entry)

    assert routed.status_code == 201, routed.text
    assert routed.headers["content-type"] == "application/json"
    first = routed.json()
    assert (first["index"], first["id"], first["created"]) == (3, entry.id, True)
    assert first["receipt"]
    assert again.status_code == 200, again.text
    assert {**again.json(), "created": True} == first
    assert served.size == 4


@each_refusal
def test_the_documented_route_refuses_as_the_lean_path_does(
    served: Served, make: Any, status: int, code: str
) -> None:
    """Every refusal of SPEC §2 through the FastAPI route: the same status, the same body as
    the served app gives, and nothing appended."""
    data = make(served)
    content = data.entry_bytes() if isinstance(data, Entry) else data
    size = served.size

    routed = _routes_only(served).post(f"/c/{COMMUNITY}/entries", content=content)
    lean = served.post(data)

    assert_error(routed, status, code)
    assert routed.json() == lean.json()
    assert served.size == size
