"""``glasspocket``: the treasurer's, committee's and operator's command line.

Every command that records something signs on this machine with ``--key FILE``
and submits through the same checks as the HTTP service. Errors print the
ledger's stable code and a message in the user's language (LANG), and exit 1.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from api.settings import DEFAULT_PUBLIC_HOST, Settings
from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import KeyFileExistsError, LedgerError, MalformedError
from ledger.core.keys import KEY_TYPE_COSIGNATURE, KEY_TYPE_ED25519, SigningKey
from ledger.core.policy import build_policy
from ledger.store.publish import export_log, keychain_text, published_checkpoint, receipt_text
from ledger.store.service import Appended, LedgerService
from verify.report import language

app = typer.Typer(
    help="Glass Pocket 玻璃口袋: a community's money in a public, verifiable log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
key_app = typer.Typer(help="Keys: create signing keys. 密钥管理。", no_args_is_help=True)
record_app = typer.Typer(help="Record a signed entry. 记录一条签名条目。", no_args_is_help=True)
log_app = typer.Typer(
    help="The public log: export it for any static host. 公开日志。", no_args_is_help=True
)
app.add_typer(key_app, name="key")
app.add_typer(record_app, name="record")
app.add_typer(log_app, name="log")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: $GLASSPOCKET_DATABASE_URL or sqlite:///glasspocket.db)"
    ),
]
KeysOpt = Annotated[
    str | None,
    typer.Option(
        "--keys",
        help="folder of keys the service holds (log keys); default $GLASSPOCKET_KEYS or ./glasspocket-keys",
    ),
]
CommunityOpt = Annotated[str, typer.Option("--community", "-c", help="community id")]
KeyFileOpt = Annotated[Path, typer.Option("--key", help="your private key file (mode 0600)")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="when it happened, RFC 3339 (default: now)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def _lang() -> str:
    return language()


def _fail(exc: LedgerError) -> typer.Exit:
    # Escaped: rich would take "[code]" (and brackets in messages) for markup and drop it.
    detail = escape(f"[{exc.code}] {exc.message(_lang())}")
    err.print(f"[red]error[/red] {detail}", highlight=False, markup=True)
    return typer.Exit(1)


def _guard(action: Callable[[], T]) -> T:
    try:
        return action()
    except LedgerError as exc:
        raise _fail(exc) from None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_amount_fen(text: str) -> int:
    """'1234.5' yuan → 123450 fen, exactly (no floats); at most two decimals."""
    match = re.fullmatch(r"(\d{1,13})(?:\.(\d{1,2}))?", text.strip())
    if match is None:
        raise MalformedError(
            f"amount {text!r} must be yuan with at most two decimals, e.g. 1234.50",
            f"金额 {text!r} 应以元为单位、最多两位小数，例如 1234.50",
        )
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


# --- keys -------------------------------------------------------------------------------------


@key_app.command("new")
def key_new(
    name: Annotated[
        str, typer.Argument(help="key name: <community>/<handle> for people, the origin for a log")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="where to write the private key (created 0600)")
    ],
    witness: Annotated[
        bool, typer.Option("--witness", help="a witness (cosigner) key, type 0x04")
    ] = False,
) -> None:
    """Create a key: writes the private key file (0600) and prints the public vkey."""

    def make() -> str:
        key = SigningKey.generate(name, KEY_TYPE_COSIGNATURE if witness else KEY_TYPE_ED25519)
        if out_file.exists():
            raise KeyFileExistsError(
                f"{out_file} exists; not overwritten", f"{out_file} 已存在，未覆盖"
            )
        key.save(out_file)
        return str(key.verifier())

    out.print(_guard(make), highlight=False)


# --- community and entries --------------------------------------------------------------------


@app.command()
def init(
    community: CommunityOpt,
    name: Annotated[str, typer.Option("--name", help="the community's name")],
    key: KeyFileOpt,
    member: Annotated[
        list[str] | None,
        typer.Option("--member", help="another founding key: ROLE=VKEY (repeatable)"),
    ] = None,
    public_host: Annotated[
        str, typer.Option("--public-host", help="host the log is published under")
    ] = DEFAULT_PUBLIC_HOST,
    db: DbOpt = None,
    keys: KeysOpt = None,
) -> None:
    """Found a community: creates its log key in the keys folder and signs index 0 with --key."""
    settings = Settings.resolve(db, keys, public_host)

    def found() -> str:
        founder = SigningKey.load(key)
        origin = f"{settings.public_host}/c/{community}/log"
        log_key = _log_key(settings.keys_dir, origin, community)
        founding = [{"vkey": str(founder.verifier()), "role": "committee"}]
        for item in member or []:
            role, _, vkey = item.partition("=")
            founding.append({"vkey": vkey, "role": role})
        entry = sign_entry(
            founder,
            community=community,
            type="community.founded",
            at=_now(),
            body={"name": name, "origin": origin, "keys": founding},
        )
        service = LedgerService(settings.database_url, [log_key])
        service.found(entry, str(build_policy(log_key.verifier(), [], "none")))
        return str(log_key.verifier())

    vkey = _guard(found)
    out.print(f"community {community} founded; log key: {vkey}", highlight=False)


def _log_key(folder: Path, origin: str, community: str) -> SigningKey:
    path = folder / f"{community}-log.key"
    if path.exists():
        existing = SigningKey.load(path)
        if existing.name == origin:
            return existing
    folder.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate(origin)
    key.save(path)
    return key


def _submit_signed(entry: Entry, db: str | None, keys: str | None, as_json: bool) -> None:
    settings = Settings.resolve(db, keys)

    def go() -> tuple[Appended, bool]:
        service = settings.open_service()
        appended = service.submit(entry.community, entry)
        signed = service.latest_checkpoint(entry.community)
        return appended, signed is not None and signed[0] > appended.index

    appended, checkpointed = _guard(go)
    result = {
        "community": appended.community,
        "index": appended.index,
        "id": appended.entry_id,
        "created": appended.created,
        "checkpointed": checkpointed,
    }
    if as_json:
        out.print_json(json.dumps(result))
        return
    zh = _lang() == "zh"
    verb = (
        ("已记录" if appended.created else "已存在（相同条目）")
        if zh
        else ("recorded" if appended.created else "already recorded (identical entry)")
    )
    out.print(
        f"{verb}: {appended.community} #{appended.index} {appended.entry_id}", highlight=False
    )
    if not checkpointed:
        err.print(
            "检查点待签名：本机没有此日志的日志密钥"
            if zh
            else "checkpoint pending: the log key is not in the keys folder here",
            highlight=False,
        )


def _record(
    key: Path,
    community: str,
    entry_type: str,
    at: str | None,
    body: dict[str, Any],
    db: str | None,
    keys: str | None,
    as_json: bool,
) -> None:
    entry = _guard(
        lambda: sign_entry(
            SigningKey.load(key),
            community=community,
            type=entry_type,
            at=at or _now(),
            body=body,
            entry_id=str(uuid.uuid4()),
        )
    )
    _submit_signed(entry, db, keys, as_json)


@record_app.command("contribution")
def record_contribution(
    community: CommunityOpt,
    unit: Annotated[str, typer.Option("--unit", help="unit code, e.g. 3-1-502")],
    fund: Annotated[str, typer.Option("--fund", help="property or maintenance")],
    key: KeyFileOpt,
    amount: Annotated[
        str | None, typer.Option("--amount", help="amount in yuan, e.g. 1234.50")
    ] = None,
    amount_fen: Annotated[int | None, typer.Option("--amount-fen", help="amount in fen")] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="property fees: month paid for, YYYY-MM")
    ] = None,
    deposit: Annotated[
        str | None, typer.Option("--deposit", help="maintenance: initial or top_up")
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="bank, cash, wechat, alipay, other")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="bank or receipt reference")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record money received from a unit (contribution.received)."""
    if (amount is None) == (amount_fen is None):
        raise _fail(
            MalformedError(
                "give exactly one of --amount and --amount-fen",
                "请且只给出 --amount 或 --amount-fen 之一",
            )
        )
    fen = amount_fen if amount_fen is not None else _guard(lambda: parse_amount_fen(amount or ""))
    body: dict[str, Any] = {"fund": fund, "unit": unit, "amount_fen": fen}
    for name, value in (
        ("month", month),
        ("deposit", deposit),
        ("method", method),
        ("reference", reference),
    ):
        if value is not None:
            body[name] = value
    _record(key, community, "contribution.received", at, body, db, keys, as_json)


@record_app.command("unit")
def record_unit(
    community: CommunityOpt,
    unit: Annotated[str, typer.Option("--unit", help="unit code, e.g. 3-1-502")],
    building: Annotated[str, typer.Option("--building")],
    area_cm2: Annotated[int, typer.Option("--area-cm2", help="floor area in square centimetres")],
    owner: Annotated[str, typer.Option("--owner", help="opaque owner reference (never a name)")],
    key: KeyFileOpt,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a unit (unit.registered)."""
    body = {"unit": unit, "building": building, "area_cm2": area_cm2, "owner": owner}
    _record(key, community, "unit.registered", at, body, db, keys, as_json)


@record_app.command("key")
def record_key(
    community: CommunityOpt,
    vkey: Annotated[str, typer.Option("--vkey", help="the new key's vkey")],
    role: Annotated[str, typer.Option("--role", help="treasurer, trustee, owner or authority")],
    key: KeyFileOpt,
    owner: Annotated[
        str | None, typer.Option("--owner", help="owner keys: the owner reference")
    ] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a key with a role (key.registered)."""
    body: dict[str, Any] = {"vkey": vkey, "role": role}
    if owner is not None:
        body["owner"] = owner
    _record(key, community, "key.registered", at, body, db, keys, as_json)


@record_app.command("revoke")
def record_revoke(
    community: CommunityOpt,
    name: Annotated[str, typer.Option("--name", help="the revoked key's name")],
    key: KeyFileOpt,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    at: AtOpt = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a key (key.revoked)."""
    body: dict[str, Any] = {"name": name}
    if reason:
        body["reason"] = reason
    _record(key, community, "key.revoked", at, body, db, keys, as_json)


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="a signed entry (any JSON serialization)")],
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a pre-signed entry; exits non-zero with the reason when it is refused."""
    from ledger.core.entry import parse_entry_json

    def read() -> Entry:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise MalformedError(
                f"cannot read {file}: {exc.strerror}", f"无法读取 {file}：{exc.strerror}"
            ) from None
        return parse_entry_json(data)

    _submit_signed(_guard(read), db, keys, as_json)


@app.command()
def receipt(
    community: CommunityOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the .tlog-proof and keychain")],
    entry: Annotated[str, typer.Option("--entry", help="the entry id")],
    db: DbOpt = None,
    keys: KeysOpt = None,
) -> None:
    """Write a receipt (.tlog-proof) for an entry, with the key chain beside it."""
    settings = Settings.resolve(db, keys)

    def make() -> Path:
        service = settings.open_service()
        index = service.state(community).index_of(entry)
        if index is None:
            raise MalformedError(
                f"no entry {entry} in {community}", f"{community} 中没有条目 {entry}"
            )
        published = published_checkpoint(service, community)
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{entry}.tlog-proof"
        target.write_text(receipt_text(service, published, index), encoding="utf-8")
        (out_dir / "keychain").write_text(keychain_text(service, published), encoding="utf-8")
        return target

    path = _guard(make)
    out.print(str(path), highlight=False)


@log_app.command("export")
def log_export(
    community: CommunityOpt,
    out_dir: Annotated[Path, typer.Argument(help="the folder to write (created if need be)")],
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the log (checkpoint, policy, keychain, tiles) for any static web host."""
    settings = Settings.resolve(db, keys)
    with _progress("exporting 导出") as bar:
        task = bar.add_task("export", total=None)
        published = _guard(
            lambda: export_log(
                settings.open_service(),
                community,
                out_dir,
                lambda done, _total: bar.update(task, completed=done),
            )
        )
    info: dict[str, Any] = {
        "community": community,
        "size": published.verified.size,
        "dir": str(out_dir),
        "root": published.verified.root.hex(),
    }
    if as_json:
        out.print_json(json.dumps(info))
    else:
        out.print(
            f"exported {community} @ {info['size']} to {out_dir} (root {info['root'][:16]}…)",
            highlight=False,
        )


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )


# --- demo and serve ------------------------------------------------------------------------------


@app.command()
def demo(
    db: DbOpt = None,
    keys: KeysOpt = None,
    seed: Annotated[
        int, typer.Option("--seed", help="the demo's seed (same seed, same log)")
    ] = 2025,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="build the demo and exit")] = False,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """Build the demo community 'demo' (deterministic), write its keys, and serve it."""
    from api.demo import build_demo

    settings = Settings.resolve(db, keys, f"localhost:{port}")
    service = LedgerService(settings.database_url)
    with _progress("building demo 生成示范小区") as bar:
        task = bar.add_task("demo", total=None)
        cast = _guard(
            lambda: build_demo(
                service,
                seed,
                settings.public_host,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    written = cast.write(settings.keys_dir)
    size = service.size("demo")
    out.print(
        f"demo community 'demo': {size} entries; {len(written)} keys in {settings.keys_dir}/",
        highlight=False,
    )
    out.print(f"log key: {cast.log_key.verifier()}", highlight=False)
    if not no_serve:
        _serve(settings, service, host, port)


@app.command()
def serve(
    db: DbOpt = None,
    keys: KeysOpt = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """Serve the HTTP API: the logs under /c/{community}/log/ and POST /c/{community}/entries."""
    settings = Settings.resolve(db, keys, f"localhost:{port}")
    _serve(settings, None, host, port)


def _serve(settings: Settings, service: LedgerService | None, host: str, port: int) -> None:
    import uvicorn

    from api.app import create_app

    application = _guard(lambda: create_app(settings, service))
    out.print(f"serving on http://{host}:{port}/  (Ctrl-C to stop)", highlight=False)
    uvicorn.run(application, host=host, port=port, log_level="warning")


def main() -> None:
    app()
