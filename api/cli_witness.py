"""``glasspocket witness …``: run a witness, cosign an export offline, collect cosignatures.

- ``witness serve --key K [--state DIR] --policy-log VKEY…``: the C2SP tlog-witness
  ``POST /add-checkpoint`` endpoint (``api.witness``).
- ``witness cosign EXPORT_DIR --key K [--state DIR] --log-vkey VKEY``: the same check
  offline, the consistency proof computed from the export's tiles; the cosignature
  line is printed and appended to the export's ``checkpoint`` (and its key chain's).
- ``witness collect --community ID [URL…]``: the log's side, by hand: posts the newest
  checkpoint to each witness (the policy's witness URLs if none are given), with the
  consistency proof from the size that witness last cosigned, and stores the
  cosignatures it returns (``api.cosigning``, which ``serve`` runs after every entry).
- ``witness add --community ID FILE``: stores the cosignatures found on a cosigned
  checkpoint file (what ``witness cosign`` wrote), e.g. one carried back on a USB stick.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import CommunityOpt, DbOpt, KeysOpt, err, guard, is_zh, out, usage
from api.cosigning import Cosigner
from api.settings import Settings
from api.witness import WitnessStore, make_server
from ledger.core.errors import LedgerError, MalformedError, NotFoundError
from ledger.core.keychain import format_keychain, parse_keychain
from ledger.core.keys import KEY_TYPE_COSIGNATURE, SigningKey, VerifierKey
from ledger.core.merkle import consistency_proof
from ledger.core.note import add_signature_lines, parse_checkpoint, parse_note
from ledger.core.policy import Policy
from ledger.core.tiles import TileHashReader
from ledger.core.witness import AddCheckpoint, check_log_signature
from verify.memory import state_dir
from verify.sources import DirectorySource

witness_app = typer.Typer(
    help="Witnesses: cosign checkpoints only when the log grew honestly. 见证人。",
    no_args_is_help=True,
)

WitnessKeyOpt = Annotated[
    Path, typer.Option("--key", help="the witness's private key file (type 0x04, mode 0600)")
]
StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="folder of the witness's record (default: $XDG_STATE_HOME/glasspocket/witness)",
    ),
]
TIMEOUT = 30.0


def _witness_key(path: Path) -> SigningKey:
    key = SigningKey.load(path)
    if key.key_type != KEY_TYPE_COSIGNATURE:
        raise MalformedError(
            f"{path} is not a witness key (type 0x04); make one with: glasspocket key new --witness",
            f"{path} 不是见证密钥（0x04 类型）；请用 glasspocket key new --witness 创建",
        )
    return key


def _store(key_file: Path, state: Path | None) -> WitnessStore:
    key = _witness_key(key_file)
    return WitnessStore(state or state_dir() / "witness" / key.verifier().key_id_hex, key)


def _vkeys(texts: list[str]) -> list[VerifierKey]:
    return [VerifierKey.parse(text) for text in texts]


@witness_app.command("serve")
def serve(
    key: WitnessKeyOpt,
    policy_log: Annotated[
        list[str], typer.Option("--policy-log", help="a log vkey this witness follows (repeat)")
    ],
    state: StateOpt = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="0 picks a free port")] = 8100,
    stop_after: Annotated[
        float | None, typer.Option("--stop-after", help="stop after this many seconds")
    ] = None,
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) for the given logs."""
    store = guard(lambda: _store(key, state))
    logs = guard(lambda: _vkeys(policy_log))
    server = make_server(store, logs, host, port)
    bound = server.server_address[1]
    print(
        f"witness {store.key.verifier()} listening on http://{host}:{bound}/add-checkpoint",
        flush=True,
    )
    if stop_after is not None:
        import threading

        threading.Timer(stop_after, server.shutdown).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@witness_app.command("cosign")
def cosign_export(
    export_dir: Annotated[Path, typer.Argument(help="an exported log folder (log export)")],
    key: WitnessKeyOpt,
    log_vkey: Annotated[list[str], typer.Option("--log-vkey", help="the log's vkey (repeatable)")],
    state: StateOpt = None,
) -> None:
    """Cosign an exported checkpoint offline, after checking it grew from the last one cosigned."""

    def go() -> str:
        store = _store(key, state)
        logs = _vkeys(log_vkey)
        source = DirectorySource(export_dir)
        note_text = source.read("checkpoint").decode("utf-8")
        note = parse_note(note_text)
        checkpoint = check_log_signature(note, logs)
        last = store.last(checkpoint.origin)
        old = 0 if last is None else last.size
        proof: list[bytes] = []
        if 0 < old < checkpoint.size:
            reader = TileHashReader(checkpoint.size, checkpoint.root, source.read)
            proof = consistency_proof(old, checkpoint.size, reader)
        line = store.add(AddCheckpoint(old, tuple(proof), note_text), logs)
        _append_line(export_dir, note_text, line)
        return line

    out.print(guard(go), end="", highlight=False)


def _append_line(export_dir: Path, note_text: str, line: str) -> None:
    """Add the cosignature to the export's checkpoint and to its key chain's, if the same."""
    _replace(export_dir / "checkpoint", add_signature_lines(note_text, [line]))
    keychain = export_dir / "keychain"
    if keychain.exists():
        chain_note, items = parse_keychain(keychain.read_text(encoding="utf-8"))
        if parse_note(chain_note).text == parse_note(note_text).text:
            _replace(keychain, format_keychain(add_signature_lines(chain_note, [line]), items))


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@witness_app.command("add")
def add(
    community: CommunityOpt,
    file: Annotated[Path, typer.Argument(help="a cosigned checkpoint (from witness cosign)")],
    db: DbOpt = None,
    keys: KeysOpt = None,
) -> None:
    """Store the policy witnesses' cosignatures found on a cosigned checkpoint file."""
    settings = Settings.resolve(db, keys)

    def go() -> list[str]:
        service = settings.open_service()
        note = parse_note(file.read_text(encoding="utf-8"))
        size = parse_checkpoint(note.text).size
        policy = Policy.parse(service.community_info(community)["policy"])
        names = {w.vkey.name for w in policy.witnesses.values()}
        lines = [s.line() for s in note.signatures if s.name in names]
        if not lines:
            raise NotFoundError(
                f"{file} carries no cosignature by a witness of {community}",
                f"{file} 上没有小区 {community} 见证人的见证签名",
            )
        return [service.add_cosignature(community, size, line) for line in lines]

    for name in guard(go):
        out.print(
            f"{'已保存见证签名' if is_zh() else 'cosignature stored'}: {name}", highlight=False
        )


@witness_app.command("collect")
def collect(
    community: CommunityOpt,
    urls: Annotated[
        list[str] | None,
        typer.Argument(help="witness prefixes (default: the URLs in the community's policy)"),
    ] = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
) -> None:
    """Ask witnesses to cosign the newest checkpoint (POST <url>/add-checkpoint); store their lines."""
    settings = Settings.resolve(db, keys)
    service = guard(settings.open_service)
    policy = guard(lambda: Policy.parse(service.community_info(community)["policy"]))
    targets = urls or [w.url for w in policy.witnesses.values() if w.url]
    if not targets:
        raise usage(
            "give witness URLs: the policy names none", "请给出见证人网址：信任策略中没有网址"
        )
    latest = guard(lambda: service.latest_checkpoint(community))
    if latest is None:
        raise usage("no signed checkpoint yet", "尚无已签名的检查点")
    size, note = latest
    cosigner = Cosigner(service, TIMEOUT)
    failures = 0
    for url in targets:
        try:
            names = cosigner.request(community, size, note, url)
        except LedgerError as exc:
            failures += 1
            err.print(
                f"{url}: [{exc.code}] {exc.message('zh' if is_zh() else 'en')}", highlight=False
            )
            continue
        stored = ", ".join(names) or ("无" if is_zh() else "none")
        out.print(
            f"{url}: {size} {'已见证' if is_zh() else 'cosigned by'} {stored}", highlight=False
        )
    if failures:
        raise typer.Exit(1)
