"""``glasspocket-verify``: the resident's and auditor's command line (standard library only).

Exit status: 0 when no violation is found (notices are printed and do not change
it), 1 when there is a violation (one line each), 2 for a usage error (a missing
file, an unreadable policy). ``evidence`` exits 0 when the file proves a fork, 1
when it does not, 2 when it cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ledger.core.errors import LedgerError
from ledger.core.money import yuan
from ledger.core.policy import Policy
from verify.audit import audit_log
from verify.evidence import check_evidence
from verify.memory import CheckpointMemory
from verify.receipt import verify_receipt
from verify.report import Report, language
from verify.sources import open_source
from verify.statement import verify_statement

TEXT = {
    "ok": {"zh": "验证通过：未发现违规。", "en": "Verified: no violation found."},
    "fail": {"zh": "验证失败：发现 {n} 处违规。", "en": "Verification FAILED: {n} violation(s)."},
    "violation": {"zh": "违规", "en": "VIOLATION"},
    "notice": {"zh": "提示", "en": "notice"},
    "progress": {"zh": "正在验证", "en": "verifying"},
    "fork_proven": {
        "zh": "分叉已证实：日志密钥签署了两段不可能同时为真的历史。",
        "en": "FORK PROVEN: the log key signed two histories that cannot both be true.",
    },
    "fork_not_proven": {
        "zh": "此文件不能证明分叉。",
        "en": "This file does not prove a fork.",
    },
}

FACT_LABELS = {
    "origin": ("日志源", "origin"),
    "size": ("条目数", "entries"),
    "root": ("树根", "root"),
    "fingerprint": ("账本指纹（与公示核对）", "fingerprint (compare with the notice)"),
    "witnesses": ("见证人", "witnesses"),
    "community": ("小区", "community"),
    "name": ("名称", "name"),
    "units": ("房屋户数", "units"),
    "live_keys": ("有效密钥", "live keys"),
    "funds_fen": ("各基金余额（元）", "fund balances (yuan)"),
    "entries_by_type": ("各类条目", "entries by type"),
    "memory": ("与上次验证比对", "compared with last time"),
    "checkpoint_size": ("检查点大小", "checkpoint size"),
    "index": ("序号", "index"),
    "id": ("条目编号", "entry id"),
    "type": ("类型", "type"),
    "at": ("时间", "at"),
    "unit": ("房号", "unit"),
    "fund": ("基金", "fund"),
    "month": ("月份", "month"),
    "amount_fen": ("金额（元）", "amount (yuan)"),
    "signer": ("签名人", "signer"),
    "signer_checked": ("已验证签名人", "signer checked"),
    "signer_role": ("签名人角色", "signer role"),
    "evidence": ("分叉证据", "fork evidence"),
    "period": ("报表期间", "statement period"),
    "covered": ("覆盖条目范围", "entries covered"),
    "full": ("已重放日志并重算数字", "log replayed, figures recomputed"),
}

FUND_LABELS = {
    "property": ("物业费信托账户", "property (trust account)"),
    "maintenance": ("专项维修资金", "maintenance fund"),
    "public_revenue": ("公共收益", "common revenue"),
    "community": ("社区基金", "community fund"),
}

MEMORY_LABELS = {
    "first_seen": ("首次验证此日志，已记住其检查点", "first time: checkpoint remembered"),
    "same": ("与上次相同", "same as last time"),
    "advanced": ("与上次一致，已更新", "consistent with last time; moved forward"),
    "not_compared": ("未比对", "not compared"),
}


def _fact_text(key: str, value: object, lang: str) -> str:
    zh = lang == "zh"
    if key == "funds_fen" and isinstance(value, dict):
        parts = [f"{FUND_LABELS[f][0 if zh else 1]} {yuan(v)}" for f, v in value.items()]
        return "；".join(parts) if zh else "; ".join(parts)
    if key == "amount_fen" and isinstance(value, int):
        return yuan(value)
    if key == "memory" and isinstance(value, str) and value in MEMORY_LABELS:
        return MEMORY_LABELS[value][0 if zh else 1]
    if key == "entries_by_type" and isinstance(value, dict):
        return ", ".join(f"{name} {count}" for name, count in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or ("无" if zh else "none")
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    return str(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glasspocket-verify",
        description="Verify a Glass Pocket community log, a receipt or a statement against a "
        "pinned trust policy. 以张贴的信任策略验证小区账本、收据或报表。",
    )
    parser.add_argument("--lang", choices=["zh", "en"], help="output language (default: from LANG)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    sub = parser.add_subparsers(dest="command", required=True)
    log = sub.add_parser("log", help="verify a whole published log (directory or http(s) prefix)")
    log.add_argument("source", help="an exported directory or an http(s) URL prefix")
    log.add_argument("--policy", required=True, help="the trust policy file printed on the notice")
    receipt = sub.add_parser("receipt", help="verify a receipt (.tlog-proof)")
    receipt.add_argument("file", help="the .tlog-proof file")
    receipt.add_argument("--policy", required=True, help="the trust policy file")
    receipt.add_argument(
        "--keychain", help="key chain file (default: a 'keychain' file beside the receipt)"
    )
    statement = sub.add_parser("statement", help="verify a statement bundle (.statement.json)")
    statement.add_argument("file", help="the .statement.json bundle")
    statement.add_argument("--policy", required=True, help="the trust policy file")
    statement.add_argument(
        "--log", help="also replay the log (directory or http(s) prefix) and recompute every figure"
    )
    evidence = sub.add_parser(
        "evidence", help="check a fork-evidence file: exit 0 when it proves a fork"
    )
    evidence.add_argument("file", help="the fork-evidence file (glasspocket/fork-evidence@v1)")
    evidence.add_argument("--policy", required=True, help="the trust policy file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    lang = language(args.lang)
    try:
        policy = Policy.parse(_read(args.policy))
        report = _run(args, policy)
    except (LedgerError, OSError) as exc:
        message = exc.message(lang) if isinstance(exc, LedgerError) else str(exc)
        print(f"glasspocket-verify: {message}", file=sys.stderr)
        return 2
    if args.command == "evidence":
        _print(report, lang, args.json, "fork_proven" if report.ok else "fork_not_proven")
    else:
        _print(report, lang, args.json)
    return 0 if report.ok else 1


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise LedgerError(
            f"cannot read {path}: {exc.strerror}", f"无法读取 {path}：{exc.strerror}"
        ) from None


def _run(args: argparse.Namespace, policy: Policy) -> Report:
    if args.command == "evidence":
        return check_evidence(_read(args.file), policy)
    memory = CheckpointMemory()
    if args.command == "log":
        progress = _progress_printer(language(args.lang)) if sys.stderr.isatty() else None
        return audit_log(open_source(args.source), policy, memory, progress)
    if args.command == "statement":
        source = open_source(args.log) if args.log else None
        return verify_statement(_read(args.file), policy, source, memory)
    receipt = _read(args.file).decode("utf-8", errors="replace")
    keychain_path = Path(args.keychain) if args.keychain else Path(args.file).parent / "keychain"
    keychain = keychain_path.read_text(encoding="utf-8") if keychain_path.exists() else None
    if args.keychain and keychain is None:
        raise LedgerError(f"cannot read {args.keychain}", f"无法读取 {args.keychain}")
    return verify_receipt(receipt, policy, keychain, memory)


def _progress_printer(lang: str) -> Callable[[int, int], None]:
    label = TEXT["progress"][lang]

    def show(done: int, total: int) -> None:
        if done == total or done % 1000 == 0:
            end = "\n" if done == total else ""
            print(f"\r{label} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _print(report: Report, lang: str, as_json: bool, verdict_key: str | None = None) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
        return
    for finding in report.findings:
        label = TEXT[finding.severity][lang]
        print(f"{label}: {finding.message(lang)}")
    for key, value in report.facts.items():
        zh, en = FACT_LABELS.get(key, (key, key))
        print(f"  {zh if lang == 'zh' else en}: {_fact_text(key, value, lang)}")
    verdict = TEXT["ok"][lang] if report.ok else TEXT["fail"][lang].format(n=len(report.violations))
    print(TEXT[verdict_key][lang] if verdict_key else verdict)


if __name__ == "__main__":
    sys.exit(main())
