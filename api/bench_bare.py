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
import json
import os
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI, Request, Response

KEY_VARIABLE = "GLASSPOCKET_BENCH_BARE_KEY"
PATH = "/c/bench/entries"

app = FastAPI()


@app.get("/")
async def ready() -> dict[str, bool]:
    return {"ok": True}


@app.post(PATH)
async def submit(request: Request) -> Response:
    data = json.loads(await request.body())
    signature = base64.b64decode(data.pop("sig"))
    try:
        _public_key().verify(signature, rfc8785.dumps(data))
    except InvalidSignature:
        return Response(b'{"ok":false}', status_code=401, media_type="application/json")
    return Response(b'{"ok":true}', status_code=201, media_type="application/json")


_KEYS: dict[str, Ed25519PublicKey] = {}


def _public_key() -> Ed25519PublicKey:
    raw = os.environ[KEY_VARIABLE]
    key = _KEYS.get(raw)
    if key is None:
        key = _KEYS[raw] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(raw))
    return key


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
