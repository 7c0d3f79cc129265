"""``glasspocket log restore DIR_OR_URL --db URL``: a community rebuilt from its published log.

A published log is its own backup. The restore reads the export (a directory written by
``glasspocket log export``, or the log's HTTP prefix such as ``http://host/c/demo/log``)
and verifies all of it before writing anything, with the resident's verifier
(``verify.audit``): the checkpoint against the trust policy (log signature, witness
quorum), every tile against the checkpoint, every entry's signature and every rule by
replay. What it read is kept in a private spool folder, so what is written is exactly
what was verified even if the source changes meanwhile. Then ``ledger.store.restore``
writes the entries through the service's write path (the rules run once more), carries
the exported checkpoint and its cosignatures over, and the read models are built
(``Projector.catch_up``). Any failure leaves the target without the community.

The log key never travels with a log. Unless ``--keys`` holds it, the restored database
is a read replica: it serves the same cosigned checkpoint, tiles and reads, but cannot
sign a checkpoint for anything appended later.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_common import DbOpt, JsonOpt, KeysOpt, err, guard, is_zh, out, progress_bar
from api.settings import Settings
from ledger.core.errors import LedgerError, RestoreRefusedError
from ledger.core.keys import load_key_dir
from ledger.core.policy import Policy, VerifiedCheckpoint
from ledger.core.tiles import verified_entries
from ledger.store.restore import Restored, remove_community, restore_log
from ledger.store.service import LedgerService
from projections.runner import Projector
from verify.audit import audit_log
from verify.report import Report
from verify.sources import DirectorySource, Source, open_source

MAX_LISTED = 5


class SpoolingSource:
    """Reads through to a source and keeps a copy of every file read in a local folder."""

    def __init__(self, inner: Source, spool: Path) -> None:
        self.inner = inner
        self.spool = spool

    def read(self, path: str) -> bytes:
        target = self.spool / path
        if target.is_file():
            return target.read_bytes()
        data = self.inner.read(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return data

    def describe(self) -> str:
        return self.inner.describe()


def log_restore(
    source: Annotated[
        str, typer.Argument(help="the exported folder, or the log's URL (http://host/c/ID/log)")
    ],
    db: DbOpt = None,
    keys: KeysOpt = None,
    community: Annotated[
        str | None,
        typer.Option("--community", "-c", help="the community expected in the export"),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="pin the trust policy (default: the export's own)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild a community from its published log, verifying everything first. 从公开日志恢复小区。"""
    settings = Settings.resolve(db, keys)
    with tempfile.TemporaryDirectory(prefix="glasspocket-restore-") as spool:
        spooled = SpoolingSource(open_source(source), Path(spool))
        policy = guard(lambda: _policy(spooled, policy_file))
        verified = guard(lambda: _verify(spooled, policy, community))
        service = guard(lambda: LedgerService(settings.database_url))
        try:
            restored = guard(lambda: _restore(service, policy, verified, Path(spool)))
            projected = guard(lambda: _project(service, restored.community))
        finally:
            service.close()
    _report(restored, projected, _holds_log_key(settings, verified), as_json)


def _policy(source: Source, pinned: Path | None) -> Policy:
    exported = Policy.parse(source.read("policy"))
    if pinned is None:
        return exported
    try:
        policy = Policy.parse(pinned.read_bytes())
    except OSError as exc:
        raise RestoreRefusedError(
            f"cannot read {pinned}: {exc.strerror}", f"无法读取 {pinned}：{exc.strerror}"
        ) from None
    if str(policy) != str(exported):
        raise RestoreRefusedError(
            "the export's trust policy is not the pinned one (--policy)",
            "导出目录中的信任策略与指定的（--policy）不同",
        )
    return policy


def _verify(source: Source, policy: Policy, community: str | None) -> VerifiedCheckpoint:
    with progress_bar("verifying 验证") as bar:
        task = bar.add_task("verify", total=None)
        report = audit_log(
            source, policy, None, lambda done, total: bar.update(task, completed=done, total=total)
        )
    if not report.ok:
        raise _refusal(report)
    verified = policy.check(source.read("checkpoint"))
    found = report.facts.get("community")
    if community is not None and found != community:
        raise RestoreRefusedError(
            f"the export is the log of community {found!r}, not {community!r}",
            f"导出的是小区 {found!r} 的日志，而非 {community!r}",
        )
    return verified


def _refusal(report: Report) -> RestoreRefusedError:
    violations = report.violations
    listed = violations[:MAX_LISTED]
    more = len(violations) - len(listed)
    en = "; ".join(f.message("en") for f in listed) + (f"; and {more} more" if more else "")
    zh = "；".join(f.message("zh") for f in listed) + (f"；另有 {more} 处" if more else "")
    return RestoreRefusedError(
        f"the export does not verify, nothing was written: {en}",
        f"导出目录未通过验证，未写入任何内容：{zh}",
    )


def _restore(
    service: LedgerService, policy: Policy, verified: VerifiedCheckpoint, spool: Path
) -> Restored:
    local = DirectorySource(spool)
    entries = (data for _, data in verified_entries(verified.size, verified.root, local.read))
    with progress_bar("writing 写入") as bar:
        task = bar.add_task("write", total=verified.size)
        return restore_log(
            service,
            policy,
            verified,
            entries,
            lambda done, total: bar.update(task, completed=done, total=total),
        )


def _project(service: LedgerService, community: str) -> int:
    try:
        with progress_bar("read models 投影") as bar:
            task = bar.add_task("project", total=None)
            return Projector(service).catch_up(
                lambda done, total: bar.update(task, completed=done, total=total)
            )
    except BaseException:
        remove_community(service, community)
        raise


def _holds_log_key(settings: Settings, verified: VerifiedCheckpoint) -> bool:
    if not settings.keys_dir.is_dir():
        return False
    try:
        held = load_key_dir(settings.keys_dir)
    except LedgerError:
        return False
    return any(str(key.verifier()) == str(verified.log_key) for key in held)


def _report(restored: Restored, projected: int, log_key: bool, as_json: bool) -> None:
    info: dict[str, Any] = {
        "community": restored.community,
        "origin": restored.origin,
        "size": restored.size,
        "root": restored.root,
        "witnesses": list(restored.witnesses),
        "projected": projected,
        "log_key": log_key,
        "read_replica": not log_key,
    }
    if as_json:
        out.print_json(json.dumps(info, ensure_ascii=False))
        return
    zh = is_zh()
    out.print(
        (
            f"已恢复小区 {restored.community}：{restored.size} 条，树根 {restored.root[:16]}…，"
            f"见证人 {', '.join(restored.witnesses) or '无'}"
        )
        if zh
        else (
            f"restored {restored.community}: {restored.size} entries, root "
            f"{restored.root[:16]}…, witnesses {', '.join(restored.witnesses) or 'none'}"
        ),
        highlight=False,
    )
    if log_key:
        err.print(
            "密钥目录中有日志密钥：glasspocket serve 可为新条目签署检查点。"
            if zh
            else "the keys folder holds the log key: glasspocket serve can sign new checkpoints.",
            highlight=False,
        )
    else:
        err.print(
            "只读副本：没有日志密钥，发布的是原检查点，新条目无法获得签名检查点。"
            if zh
            else "read replica: no log key here; it publishes the restored checkpoint, and "
            "nothing appended later can get a signed checkpoint.",
            highlight=False,
        )


__all__ = ["log_restore"]
