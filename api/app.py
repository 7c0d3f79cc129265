"""The HTTP service: ``create_app(settings)`` builds it; nothing is built at import.

Routes are thin: they parse, call the ledger service or the publisher, and let
one exception handler per kind of error turn it into a JSON body
``{"code", "message_zh", "message_en"}``: ``LedgerError`` (its own status),
FastAPI's own 404/405 and request validation (400), and anything unexpected (500,
no traceback). The log (SPEC §4) and ``POST /c/{community}/entries`` live here;
reads in ``api.http_reads``; pages and the browser verifier in their own modules.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http_models import CHECKPOINT, POLICY, ErrorBody, SubmitResult
from api.settings import Settings
from api.submit_path import Batches, answer_submission, read_limited_body, submit_body
from ledger.core.errors import (
    LedgerError,
    MalformedError,
    NotFoundError,
)
from ledger.core.tiles import entry_bundles_for_size, parse_tile_path, tiles_for_size
from ledger.store.publish import (
    PublishedCache,
    keychain_text,
    published_checkpoint,
    tile_bytes,
)
from ledger.store.service import LedgerService

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5"
CORS_PATHS = re.compile(
    r"^/c/[^/]+/(log/.+|statements/[^/]+/bundle|receipts/[^/]+|units/[^/]+/receipts)$"
)
# C2SP tlog-tiles below tile/: level (or entries), N in x-prefixed 3-digit elements, .p/W
TILE_PATH = (
    r"^(entries|[0-9]|[1-5][0-9]|6[0-3])/(x([1-9][0-9]{2}|0[1-9][0-9]|00[1-9])/(x[0-9]{3}/)*)?"
    r"[0-9]{3}(\.p/([1-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?$"
)
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Refused: a stable code, zh-CN and en messages"},
    "5XX": {"model": ErrorBody, "description": "Server error (no details are leaked)"},
}
log = logging.getLogger(__name__)


class InvalidRequestError(MalformedError):
    """A path or query parameter that does not have the documented form."""

    code = "invalid_request"


class MethodNotAllowedError(LedgerError):
    code = "method_not_allowed"
    status = 405


class InternalError(LedgerError):
    code = "internal"
    status = 500


class GlassPocketAPI(FastAPI):
    """FastAPI with entry submissions answered first, before FastAPI or any middleware
    sees them (``api.submit_path``): the write path pays for nothing it does not use."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await answer_submission(self.state.batches, scope, receive, send):
            await super().__call__(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.batches.start()  # the verify worker processes run while the server does
    yield
    app.state.batches.close()


def create_app(settings: Settings, service: LedgerService | None = None) -> FastAPI:
    ledger = service or settings.open_service()
    for community in ledger.communities():
        ledger.sign_checkpoint(community)
        ledger.warm(community)  # loaded now, so that the first submission is not the slow one
    app = GlassPocketAPI(
        title="Glass Pocket 玻璃口袋",
        version="1",
        description="A community's money in a public, verifiable transparency log. "
        "Writes are signed entries (the signature is the authentication); reads are "
        "JSON, the log is C2SP tlog-tiles (SPEC §4). Money is integer fen.",
        responses=ERRORS,
        lifespan=_lifespan,
    )
    app.state.ledger = ledger
    app.state.published = PublishedCache(ledger)
    _errors_documented_as_json(app)
    _error_handlers(app)
    app.add_middleware(PublishedFilesCORS)
    app.state.batches = Batches(
        ledger, app.state.published, lambda: getattr(app.state, "after_append", None)
    )

    from api import browser_verifier, cosigning, http_reads, pages

    cosigning.attach(app, ledger, settings)
    _log_routes(app, ledger)
    _entry_routes(app, ledger)
    http_reads.register(app, ledger, settings)
    pages.register(app, ledger, settings)
    browser_verifier.register(app, ledger, settings)
    return app


def _errors_documented_as_json(app: FastAPI) -> None:
    """Every 4xx/5xx is the JSON error body, also on routes whose 200 is text or bytes."""
    build = app.openapi
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}

    def openapi() -> dict[str, Any]:
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status[0] in "45":
                        response["content"] = error_body
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _error(exc: LedgerError) -> JSONResponse:
    return JSONResponse(exc.as_dict(), status_code=exc.status)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _error(NotFoundError(f"no such page: {request.url.path}", "没有这个页面"))
        if exc.status_code == 405:
            return _error(
                MethodNotAllowedError(
                    f"{request.method} is not allowed on {request.url.path}",
                    f"{request.url.path} 不支持 {request.method} 请求",
                )
            )
        body = {"code": "http_error", "message_zh": str(exc.detail), "message_en": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return _error(InvalidRequestError(f"invalid request: {where}", f"请求参数无效：{where}"))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(
            InternalError("internal error; the operator's log has the details", "服务器内部错误")
        )


class PublishedFilesCORS:
    """``Access-Control-Allow-Origin: *`` on the log, bundles and receipts (GET/HEAD), so a
    verifier served from another host can fetch them. Plain ASGI: no cost elsewhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not CORS_PATHS.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Access-Control-Allow-Origin"] = "*"
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _log_routes(app: FastAPI, ledger: LedgerService) -> None:
    def text_200(example: str) -> dict[int | str, dict[str, Any]]:
        return {
            200: {"content": {"text/plain": {"schema": {"type": "string"}, "example": example}}}
        }

    @app.get(
        "/c/{community}/log/checkpoint",
        response_class=PlainTextResponse,
        tags=["log"],
        responses=text_200(CHECKPOINT),
    )
    def checkpoint(community: str) -> Response:
        """The newest checkpoint that meets the policy, with its cosignatures (SPEC §4)."""
        published = published_checkpoint(ledger, community)
        return _text(published.verified.note_text, SHORT)

    @app.get(
        "/c/{community}/log/policy",
        response_class=PlainTextResponse,
        tags=["log"],
        responses=text_200(POLICY),
    )
    def policy(community: str) -> Response:
        """The community's trust policy (C2SP tlog-policy): log key, witnesses, quorum."""
        return _text(ledger.community_info(community)["policy"], SHORT)

    @app.get("/c/{community}/log/keychain", tags=["log"])
    def keychain(community: str) -> Response:
        """Every key entry with its inclusion proof in the published checkpoint (SPEC §4)."""
        text = keychain_text(ledger, published_checkpoint(ledger, community))
        return Response(text, media_type="application/json", headers={"Cache-Control": SHORT})

    @app.get(
        "/c/{community}/log/tile/{path:path}",
        tags=["log"],
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def tile(
        community: str, path: Annotated[str, Path(json_schema_extra={"pattern": TILE_PATH})]
    ) -> Response:
        """A C2SP hash tile or entry bundle of a published checkpoint (immutable)."""
        level, index, width = parse_tile_path(f"tile/{path}")
        if not _tile_published(ledger, community, level, index, width):
            raise NotFoundError(
                f"no tile {path} in a published checkpoint", f"已发布检查点中没有瓦片 {path}"
            )
        data = tile_bytes(ledger, community, level, index, width)
        return Response(
            data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
        )


def _tile_published(
    ledger: LedgerService, community: str, level: int, index: int, width: int
) -> bool:
    ledger.community_info(community)  # 404 for an unknown community
    for size in reversed(ledger.checkpoint_sizes(community)):
        if level < 0 and (index, width) in entry_bundles_for_size(size):
            return True
        if level >= 0 and (level, index, width) in tiles_for_size(size):
            return True
    return False


ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A signed entry (SPEC §2), in any JSON serialization.",
    "required": ["v", "community", "id", "type", "at", "body", "signer", "key_id", "sig"],
    "properties": {
        "v": {"type": "integer", "const": 1},
        "community": {"type": "string"},
        "id": {"type": "string", "format": "uuid"},
        "type": {"type": "string"},
        "at": {"type": "string"},
        "body": {"type": "object"},
        "signer": {"type": "string"},
        "key_id": {"type": "string"},
        "sig": {"type": "string"},
    },
}
ENTRY_EXAMPLE = {
    "v": 1,
    "community": "demo",
    "id": "0b6f7a4e-9c1d-4e2f-8a3b-4c5d6e7f8091",
    "type": "contribution.received",
    "at": "2025-06-01T08:00:00Z",
    "body": {"fund": "property", "unit": "1-1-102", "amount_fen": 45600, "month": "2025-05"},
    "signer": "demo/treasurer",
    "key_id": "6f1c2a9b",
    "sig": "base64 Ed25519 signature over glasspocket/event/v1 and the JCS form",
}
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SubmitResult, "description": "The identical entry again: the original result"},
    201: {"model": SubmitResult, "description": "Appended, with its index and receipt"},
    **{
        status: {"model": ErrorBody, "description": what}
        for status, what in (
            (400, "Not JSON, or not an entry (code malformed, unknown_field)"),
            (401, "Signature does not verify, or unknown/revoked signer"),
            (403, "The signer's role may not make this type"),
            (404, "No such community"),
            (409, "The id is already used with other content"),
            (413, "Request over 64 KiB, or entry over 16 KiB in JCS form"),
            (422, "A rule of the ledger refuses it (code names the rule)"),
        )
    },
}


def _entry_routes(app: FastAPI, ledger: LedgerService) -> None:
    @app.post(
        "/c/{community}/entries",
        status_code=201,
        response_model=SubmitResult,
        responses=SUBMIT_RESPONSES,
        tags=["entries"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ENTRY_SCHEMA, "example": ENTRY_EXAMPLE}},
            }
        },
    )
    async def submit(community: str, request: Request) -> Response:
        """Append one signed entry. Checked in order: size (413), form (400), signer and
        signature (401), role (403), id reused (409), identical again (200), rules (422)."""
        # Answered by ``api.submit_path.answer_submission`` before routing; this route
        # documents it and answers the same way when the app is used without it.
        body = await read_limited_body(request.scope, request.receive)
        status, result = await submit_body(app.state.batches, community, body)
        return Response(
            json.dumps(result, ensure_ascii=False, separators=(",", ":")),
            status_code=status,
            media_type="application/json",
        )


def _text(text: str, cache: str) -> Response:
    return PlainTextResponse(text, headers={"Cache-Control": cache})
