"""``glasspocket``: the treasurer's, committee's and operator's command line.

Every command that records something signs on this machine with ``--key FILE``
and submits through the same checks as the HTTP service. Errors print the
ledger's stable code and a message in the user's language (LANG), and exit 1.
This module wires the commands: ``record …`` is ``api.cli_record`` (with the money
entries of ``api.cli_money``), ``import`` is ``api.cli_import``, ``accounts`` and
``unit`` are ``api.cli_accounts``; what they share is ``api.cli_common``.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_accounts import accounts, unit
from api.cli_bench import bench
from api.cli_common import (
    CommunityOpt,
    DbOpt,
    JsonOpt,
    KeyFileOpt,
    KeysOpt,
    guard,
    now,
    out,
    progress_bar,
    submit_signed,
    usage,
)
from api.cli_governance import GOVERNANCE_COMMANDS
from api.cli_import import import_file
from api.cli_notice import notice
from api.cli_record import record_app
from api.cli_restore import log_restore
from api.cli_statements import statement_app
from api.cli_witness import witness_app
from api.settings import DEFAULT_PUBLIC_HOST, Settings
from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import KeyFileExistsError, MalformedError, NotFoundError
from ledger.core.keys import KEY_TYPE_COSIGNATURE, KEY_TYPE_ED25519, SigningKey
from ledger.core.policy import build_policy
from ledger.store.publish import (
    export_log,
    keychain_text,
    published_checkpoint,
    receipt_text,
    unit_entry_indices,
)
from ledger.store.service import LedgerService

app = typer.Typer(
    help="Glass Pocket 玻璃口袋: a community's money in a public, verifiable log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
key_app = typer.Typer(help="Keys: create signing keys. 密钥管理。", no_args_is_help=True)
log_app = typer.Typer(
    help="The public log: export it for any static host. 公开日志。", no_args_is_help=True
)
app.add_typer(key_app, name="key")
app.add_typer(record_app, name="record")
app.add_typer(log_app, name="log")
app.add_typer(witness_app, name="witness")
app.add_typer(statement_app, name="statement")

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

    out.print(guard(make), highlight=False)


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
            at=now(),
            body={"name": name, "origin": origin, "keys": founding},
        )
        service = LedgerService(settings.database_url, [log_key])
        service.found(entry, str(build_policy(log_key.verifier(), [], "none")))
        return str(log_key.verifier())

    vkey = guard(found)
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

    submit_signed(guard(read), db, keys, as_json)


@app.command()
def receipt(
    community: CommunityOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the .tlog-proof and keychain")],
    entry: Annotated[str | None, typer.Option("--entry", help="the entry id")] = None,
    unit: Annotated[
        str | None,
        typer.Option("--unit", help="every entry concerning this unit (its body or its money)"),
    ] = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
) -> None:
    """Write receipts (.tlog-proof) for an entry or for every entry of a unit, with the key chain."""
    if (entry is None) == (unit is None):
        raise usage("give exactly one of --entry and --unit", "请且只给出 --entry 或 --unit 之一")
    settings = Settings.resolve(db, keys)

    def make() -> list[Path]:
        service = settings.open_service()
        published = published_checkpoint(service, community)
        if entry is not None:
            index = service.state(community).index_of(entry)
            if index is None:
                raise MalformedError(
                    f"no entry {entry} in {community}", f"{community} 中没有条目 {entry}"
                )
            indices = [index]
        else:
            indices = unit_entry_indices(service, published, unit or "")
            if not indices:
                raise NotFoundError(
                    f"no published entry of {community} concerns unit {unit}",
                    f"{community} 已发布的条目中没有涉及房屋 {unit} 的",
                )
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for index in indices:
            entry_id = json.loads(service.entries(community, index, index + 1)[0])["id"]
            target = out_dir / f"{entry_id}.tlog-proof"
            target.write_text(receipt_text(service, published, index), encoding="utf-8")
            written.append(target)
        (out_dir / "keychain").write_text(keychain_text(service, published), encoding="utf-8")
        return written

    for path in guard(make):
        out.print(str(path), highlight=False)


@log_app.command("export")
def log_export(
    community: CommunityOpt,
    out_dir: Annotated[Path, typer.Argument(help="the folder to write (created if need be)")],
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
    unwitnessed: Annotated[
        bool,
        typer.Option(
            "--unwitnessed",
            help="export the newest signed checkpoint even short of the witness quorum "
            "(to take to witnesses: glasspocket witness cosign)",
        ),
    ] = False,
) -> None:
    """Export the log (checkpoint, policy, keychain, tiles) for any static web host."""
    settings = Settings.resolve(db, keys)
    with progress_bar("exporting 导出") as bar:
        task = bar.add_task("export", total=None)
        published = guard(
            lambda: export_log(
                settings.open_service(),
                community,
                out_dir,
                lambda done, _total: bar.update(task, completed=done),
                require_quorum=not unwitnessed,
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


# --- demo and serve ------------------------------------------------------------------------------

WitnessOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="a witness's add-checkpoint URL to ask for cosignatures (repeatable; "
        "or GLASSPOCKET_WITNESS_URLS, space-separated)",
    ),
]


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
    witness: WitnessOpt = None,
) -> None:
    """Build the demo community 'demo' (deterministic), write its keys, and serve it."""
    from api.demo import build_demo

    settings = Settings.resolve(db, keys, f"localhost:{port}", witness)
    service = LedgerService(settings.database_url)
    with progress_bar("building demo 生成示范小区") as bar:
        task = bar.add_task("demo", total=None)
        cast = guard(
            lambda: build_demo(
                service,
                seed,
                settings.public_host,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    written = guard(lambda: cast.write(settings.keys_dir))
    size = service.size("demo")
    out.print(
        f"demo community 'demo': {size} entries; {len(written)} keys in {settings.keys_dir}/",
        highlight=False,
    )
    out.print(f"log key: {cast.log_key.verifier()}", highlight=False)
    if not no_serve:
        from dataclasses import replace

        from api.demo_witnesses import serve_demo_witnesses

        witnesses = serve_demo_witnesses(
            service, cast.key, cast.log_key, settings.keys_dir / "witness-state"
        )
        urls = (*settings.witness_urls, *(url for url, _ in witnesses))
        out.print(f"demo witnesses (this process, demo only): {' '.join(urls)}", highlight=False)
        _serve(replace(settings, witness_urls=urls), service, host, port)


@app.command()
def serve(
    db: DbOpt = None,
    keys: KeysOpt = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    witness: WitnessOpt = None,
) -> None:
    """Serve the HTTP API: the logs under /c/{community}/log/ and POST /c/{community}/entries."""
    settings = Settings.resolve(db, keys, f"localhost:{port}", witness)
    _serve(settings, None, host, port)


def _serve(settings: Settings, service: LedgerService | None, host: str, port: int) -> None:
    import uvicorn

    from api.app import create_app

    application = guard(lambda: create_app(settings, service))
    # What start-up loaded (the folded states, above all) lives as long as the server:
    # the garbage collector need not walk it again and again while requests come in.
    gc.freeze()
    out.print(f"serving on http://{host}:{port}/  (Ctrl-C to stop)", highlight=False)
    uvicorn.run(application, host=host, port=port, log_level="warning")


app.command("import")(import_file)
app.command("notice")(notice)
app.command("bench")(bench)
log_app.command("restore")(log_restore)
app.command("accounts")(accounts)
app.command("unit")(unit)
for _name, _command in GOVERNANCE_COMMANDS:
    app.command(_name)(_command)


def main() -> None:
    app()
