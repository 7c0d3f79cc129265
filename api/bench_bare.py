"""The yardstick for the HTTP figure: a bare FastAPI endpoint doing only JCS and one verification.

Issue 7 sets the HTTP target against such an endpoint ("measured 0.27–0.34× here"), so the
benchmark measures it in the same run, served the same way (uvicorn with uvloop and
httptools, one process) and loaded by the same 50 clients: ``http_vs_bare`` says how much of
what this machine's Python HTTP stack can do at all Glass Pocket's write path keeps, with
everything it does beyond (judging, storing with its fsync, the checkpoint, the receipt).
The endpoint trusts the one key it is given (``GLASSPOCKET_BENCH_BARE_KEY``, hex); a body is
a JSON object whose ``sig`` signs the JCS form of the rest.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import sys
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI, Request, Response

from api.bench_http import HOST, Server, free_port

KEY_VARIABLE = "GLASSPOCKET_BENCH_BARE_KEY"
PATH = "/c/bench/entries"

app = FastAPI()


@app.get("/")
async def ready() -> dict[str, bool]:
    return {"ok": True}


@app.post(PATH)
async def submit(request: Request) -> Response:
    try:
        data = json.loads(await request.body())
        signature = base64.b64decode(data.pop("sig"), validate=True)
        message = rfc8785.dumps(data)
    except (ValueError, TypeError, KeyError, AttributeError):  # rfc8785 raises ValueErrors
        return _answer(400, "malformed")  # not JSON, not an object, no sig, not canonicalisable
    try:
        _public_key(os.environ[KEY_VARIABLE]).verify(signature, message)
    except InvalidSignature:
        return _answer(401, "bad_signature")
    return Response(b'{"ok":true}', status_code=201, media_type="application/json")


def _answer(status: int, code: str) -> Response:
    body = json.dumps({"ok": False, "code": code}).encode()
    return Response(body, status_code=status, media_type="application/json")


@functools.cache
def _public_key(raw: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw))


def bare_process(public_key: str) -> Server:
    """This endpoint trusting ``public_key`` (hex), under uvicorn as ``glasspocket serve``
    runs (uvloop, httptools, one process), not yet started."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api.bench_bare:app", "--host", HOST]
    command += ["--port", str(port), "--log-level", "warning"]
    return Server(command, port, {**os.environ, KEY_VARIABLE: public_key})


def signed_bodies(count: int) -> tuple[str, list[bytes]]:
    """(the public key in hex, ``count`` request bodies it signed), entry-like and distinct."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    bodies = []
    for i in range(count):
        data: dict[str, Any] = {
            "community": "bench",
            "type": "revenue.received",
            "at": "2025-06-01T08:00:00+08:00",
            "id": f"{i:026d}",
            "signer": "bench/treasurer",
            "body": {"fund": "common", "source": "parking", "amount_fen": 1_000 + i},
        }
        data["sig"] = base64.b64encode(key.sign(rfc8785.dumps(data))).decode()
        bodies.append(json.dumps(data, ensure_ascii=False).encode())
    return public, bodies
