"""The HTTP service: ``create_app(settings)`` builds it; nothing is built at import.

Routes are thin: they parse, call the ledger service or the publisher, and let
one exception handler turn ``LedgerError`` codes into HTTP statuses with a body
``{"code", "message_zh", "message_en"}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api.settings import Settings
from ledger.core.errors import LedgerError, NotFoundError, TooLargeError
from ledger.core.tiles import entry_bundles_for_size, parse_tile_path, tiles_for_size
from ledger.store.publish import keychain_text, published_checkpoint, receipt_text, tile_bytes
from ledger.store.service import LedgerService

MAX_REQUEST_BYTES = 64 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5"


def create_app(settings: Settings, service: LedgerService | None = None) -> FastAPI:
    ledger = service or settings.open_service()
    for community in ledger.communities():
        ledger.sign_checkpoint(community)
    app = FastAPI(
        title="Glass Pocket 玻璃口袋",
        version="1",
        description="A community's money in a public, verifiable transparency log.",
    )
    app.state.ledger = ledger

    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.status)

    @app.get("/")
    def index() -> dict[str, Any]:
        """The communities on this server and where their logs are."""
        return {
            "service": "glasspocket",
            "communities": [
                {"community": c, "log": f"/c/{c}/log/", "entries": f"/c/{c}/entries"}
                for c in ledger.communities()
            ],
        }

    from api import browser_verifier, cosigning, http_reads, pages

    cosigning.attach(app, ledger, settings)
    _log_routes(app, ledger)
    _entry_routes(app, ledger)
    http_reads.register(app, ledger, settings)
    pages.register(app, ledger, settings)
    browser_verifier.register(app, ledger, settings)
    return app


def _log_routes(app: FastAPI, ledger: LedgerService) -> None:
    @app.get("/c/{community}/log/checkpoint", response_class=PlainTextResponse)
    def checkpoint(community: str) -> Response:
        published = published_checkpoint(ledger, community)
        return _text(published.verified.note_text, SHORT)

    @app.get("/c/{community}/log/policy", response_class=PlainTextResponse)
    def policy(community: str) -> Response:
        return _text(ledger.community_info(community)["policy"], SHORT)

    @app.get("/c/{community}/log/keychain")
    def keychain(community: str) -> Response:
        text = keychain_text(ledger, published_checkpoint(ledger, community))
        return Response(text, media_type="application/json", headers={"Cache-Control": SHORT})

    @app.get("/c/{community}/log/tile/{path:path}")
    def tile(community: str, path: str) -> Response:
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
    for size in reversed(ledger.checkpoint_sizes(community)):
        if level < 0 and (index, width) in entry_bundles_for_size(size):
            return True
        if level >= 0 and (level, index, width) in tiles_for_size(size):
            return True
    return False


def _entry_routes(app: FastAPI, ledger: LedgerService) -> None:
    @app.post("/c/{community}/entries", status_code=201)
    async def submit(community: str, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            raise TooLargeError(
                f"request body is {len(body)} bytes, over {MAX_REQUEST_BYTES}",
                f"请求正文 {len(body)} 字节，超过上限 {MAX_REQUEST_BYTES}",
            )
        appended = await run_in_threadpool(ledger.submit, community, body)
        if appended.created:
            await run_in_threadpool(app.state.after_append, community)
        result: dict[str, Any] = {
            "community": community,
            "index": appended.index,
            "id": appended.entry_id,
            "created": appended.created,
        }
        try:
            result["receipt"] = receipt_text(
                ledger, published_checkpoint(ledger, community), appended.index
            )
        except LedgerError:
            result["receipt"] = None
        return JSONResponse(result, status_code=201 if appended.created else 200)


def _text(text: str, cache: str) -> Response:
    return PlainTextResponse(text, headers={"Cache-Control": cache})
