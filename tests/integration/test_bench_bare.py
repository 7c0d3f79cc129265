"""``api.bench_bare``, the HTTP figure's yardstick: it does its one verification for real."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api.bench_bare import KEY_VARIABLE, PATH, app, signed_bodies


def test_the_bare_endpoint_accepts_what_its_key_signed_and_refuses_a_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public_key, bodies = signed_bodies(3)
    monkeypatch.setenv(KEY_VARIABLE, public_key)
    client = TestClient(app)
    tampered = json.loads(bodies[0])
    tampered["body"]["amount_fen"] += 1

    assert len(set(bodies)) == 3
    assert [client.post(PATH, content=body).status_code for body in bodies] == [201, 201, 201]
    assert client.post(PATH, content=json.dumps(tampered)).status_code == 401
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"no": "sig"}', b'{"sig": "not base64!", "a": 1}', b'{"sig": 5}'],
    ids=["not JSON", "an array", "no sig", "sig not base64", "sig not text"],
)
def test_a_malformed_body_is_a_bad_request(monkeypatch: pytest.MonkeyPatch, body: bytes) -> None:
    public_key, _ = signed_bodies(0)
    monkeypatch.setenv(KEY_VARIABLE, public_key)

    response = TestClient(app).post(PATH, content=body)

    assert (response.status_code, response.json()["code"]) == (400, "malformed")
