"""``glasspocket import FILE``: bank statements and legacy ledgers (CSV, XLSX) into entries.

This module owns the import plan and its report; the column mapping (``docs/import.md``)
is ``api.import_mapping``, reading files and cells ``api.import_files``, reading one row
``api.import_rows``. The public names of all four are importable from here.

1. ``load_rows(path)`` reads a CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030) or the
   first (or a named) sheet of an XLSX; row numbers are the ones the user sees.
2. ``plan_import(service, community, rows, key, mapping)`` turns each row into a signed
   entry, deterministically (id from the row's content, ``at`` = its date at noon,
   Asia/Shanghai), and judges every row with the rules (every signature verified, on
   every core) on a private draft of the community's log, collecting every bad row
   with its row number and column. The rows are read, signed and their signatures
   checked ahead, in forked processes (``prepare_rows``; the command starts them before
   it opens the ledger).
3. ``run_import(service, plan, dry_run)`` records nothing if any row is bad or in a dry
   run; otherwise it stores the draft's new entries in one atomic batch. They are judged
   once: if the log grew since the plan (another writer), ``submit_batch`` judges them
   all again on the newer state. Importing the same file again produces the same bytes,
   which the write side reports as already recorded.
"""

from __future__ import annotations

import contextlib
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from api.import_files import (
    CellError,
    ImportFileError,
    Row,
    cell_text,
    load_rows,
    to_date,
    to_fen,
    to_month,
)
from api.import_mapping import KINDS, Mapping
from api.import_rows import AHEAD_MIN_ROWS, PreparedRows, RowCells, RowError
from ledger.core.entry import Entry
from ledger.core.errors import LedgerError, UnknownSignerError
from ledger.core.gcpause import gc_paused
from ledger.core.keys import SigningKey
from ledger.core.money import yuan
from ledger.core.preverify import PreVerifier
from ledger.core.rules import check_not_future, judge
from ledger.core.state import CommunityState
from ledger.store.aggregate import CommunityLog
from ledger.store.service import Appended, LedgerService

__all__ = [
    "KINDS",
    "CellError",
    "ImportFileError",
    "ImportPlan",
    "ImportReport",
    "Mapping",
    "PlannedRow",
    "Row",
    "RowError",
    "load_rows",
    "plan_import",
    "prepare_rows",
    "run_import",
    "to_date",
    "to_fen",
    "to_month",
]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PlannedRow:
    """A good row's entry; ``recorded`` when the log already holds exactly these bytes."""

    number: int
    entry: Entry
    recorded: bool

    def summary(self, lang: str = "zh") -> str:
        body = self.entry.body
        what = [
            body.get(k) for k in ("fund", "source", "kind", "deposit", "category", "unit", "month")
        ]
        detail = " ".join(str(v) for v in what if v is not None)
        day = self.entry.at[:10]
        amount = yuan(body["amount_fen"])
        if lang.lower().startswith("zh"):
            return f"第 {self.number} 行  {day}  {self.entry.type}  {detail}  {amount} 元"
        return f"row {self.number}  {day}  {self.entry.type}  {detail}  {amount} yuan"


@dataclass
class ImportPlan:
    """Every row of a file checked against the community's state: entries, or errors."""

    community: str
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0
    # the log as the plan judged it: a private copy with the new entries appended
    draft: CommunityLog | None = field(default=None, repr=False, compare=False)
    # signatures checked once, on every core, for the plan's fold and then the commit
    verifier: PreVerifier = field(default_factory=PreVerifier, repr=False, compare=False)

    @property
    def new(self) -> list[PlannedRow]:
        return [row for row in self.rows if not row.recorded]

    @property
    def already_recorded(self) -> int:
        return sum(1 for row in self.rows if row.recorded)


ERROR_COLUMNS = {
    "unknown_unit": "unit",
    "insufficient_funds": "amount",
    "future_at": "date",
    "unit": "unit",
    "month": "month",
    "amount_fen": "amount",
    "reference": "reference",
    "payee": "counterparty",
    "donor": "counterparty",
    "description": "description",
    "purpose": "purpose",
    "fund": "fund",
    "category": "category",
    "period": "month",
}
_ENTRY_PREFIX = re.compile(r"^(entry [0-9a-f-]{36}: |条目 [0-9a-f-]{36}：)")


def plan_import(
    service: LedgerService,
    community: str,
    rows: Sequence[Row],
    key: SigningKey,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
    prepared: PreparedRows | None = None,
) -> ImportPlan:
    """Sign one entry per row and check every row with the rules on a copy of the state.

    Deterministic: the same rows give byte-identical entries (ids from the rows' content
    plus an occurrence counter for identical rows, ``at`` = the date at 12:00 +08:00).
    Rows go through a pipeline of chunks: read and signed (``PreparedRows``: in forked
    processes, on the other cores, which check each signature they made), their
    signatures' results handed to the pre-verifier (which verifies them itself, in worker
    processes for a large file, for chunks prepared here), then judged in row order
    here. ``prepared``: the rows' chunks, when the caller started them early
    (``prepare_rows``); it must be for the same rows, key and mapping.
    """
    mapping = mapping or Mapping()
    draft = service.draft(community)
    _check_signer(draft.state, key)
    with contextlib.ExitStack() as stack:
        if prepared is None:  # forked before the verifier starts its workers
            prepared = stack.enter_context(prepare_rows(rows, community, key, mapping))
        given = (prepared.rows, prepared.community, prepared.key, prepared.mapping)
        if given != (rows, community, key, mapping):
            raise ValueError("the prepared rows are of another file, community, key or mapping")
        plan = ImportPlan(community, total_rows=len(rows), draft=draft)
        plan.verifier = PreVerifier(
            window=min(max(len(rows), 1), VERIFIED_KEPT),
            keep=True,
            # worker processes for a large file, unless the forked processes check them
            processes=len(rows) >= AHEAD_MIN_ROWS and not prepared.ahead,
        )
        try:
            with gc_paused():
                _plan_chunks(service, plan, prepared, progress)
        finally:
            plan.verifier.close()  # its workers; the results stay, for the commit
    plan.errors.sort(key=lambda e: e.row)
    return plan


def prepare_rows(
    rows: Sequence[Row],
    community: str,
    key: SigningKey,
    mapping: Mapping | None = None,
    ahead: bool | None = None,
) -> PreparedRows:
    """Start reading and signing the rows (ahead, in a forked process, where it can).

    For ``plan_import(..., prepared=...)``: started before the ledger is opened, the rows
    are being signed meanwhile. Use it as a context manager (leaving it stops the work).
    """
    return PreparedRows(rows, community, key, mapping or Mapping(), ahead)


def _plan_chunks(
    service: LedgerService, plan: ImportPlan, chunks: PreparedRows, progress: Progress | None
) -> None:
    with _Pipeline(service, plan, chunks) as pipeline:
        for chunk in chunks:
            plan.errors.extend(chunk.errors)
            pipeline.push(chunk.signed, chunk.verified)
            if progress is not None:
                progress(chunk.stop, plan.total_rows)


VERIFIED_KEPT = 100_000  # results kept for the commit; beyond, it verifies the oldest again
JUDGE_BEHIND = 4  # chunks handed to the verifier before the oldest of them is judged

_Signed = list[tuple[int, "Entry | LedgerError"]]  # (position in the rows, its entry)


class _Pipeline:
    """Chunks of signed rows: their signatures verified ahead, then judged in order.

    A chunk is judged only after the next ones were handed to the pre-verifier, so its
    workers verify while this thread judges and the forked process signs; the fold
    rarely waits for a result. Judging stays in row order.
    """

    def __init__(self, service: LedgerService, plan: ImportPlan, chunks: PreparedRows) -> None:
        assert plan.draft is not None
        self.service, self.plan, self.draft, self.chunks = service, plan, plan.draft, chunks
        self.vkey = chunks.key.verifier()
        self.now = service.clock()
        self.verifying: deque[_Signed] = deque()
        self.located: dict[str, str] | None = None

    def __enter__(self) -> _Pipeline:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        while kind is None and self.verifying:
            self._judge()

    def push(self, signed: _Signed, verified: Sequence[bool] = ()) -> None:
        """A chunk's signed rows, and their signatures' results if they were checked ahead."""
        if verified:
            pairs = [(e, self.vkey) for _, e in signed if isinstance(e, Entry)]
            results = [
                ok for (_, e), ok in zip(signed, verified, strict=True) if isinstance(e, Entry)
            ]
            self.plan.verifier.checked(pairs, results)
        else:
            self.plan.verifier.submit([(e, self.vkey) for _, e in signed if isinstance(e, Entry)])
        self.verifying.append(signed)
        if len(self.verifying) > (0 if verified else JUDGE_BEHIND):  # checked: judge it now
            self._judge()

    def _judge(self) -> None:
        for position, entry in self.verifying.popleft():
            _plan_row(self, position, entry)

    def cells(self, position: int) -> RowCells:
        """A row's cells, to say why it was refused."""
        rows, mapping = self.chunks.rows, self.chunks.mapping
        if self.located is None:
            self.located = mapping.locate(list(rows[0].cells))
        return RowCells(rows[position], self.located, mapping, self.plan.errors, set())


def _check_signer(state: CommunityState, key: SigningKey) -> None:
    """Refuse the whole file at once, not row by row, when the key cannot sign in this log."""
    record = state.keys.get(key.name)
    if record is None or not record.live or record.vkey.key_id_hex != key.verifier().key_id_hex:
        raise UnknownSignerError(
            f"key {key.name} is not a live key of community {state.community}",
            f"密钥 {key.name} 不是小区 {state.community} 的有效密钥",
        )


def _plan_row(pipeline: _Pipeline, position: int, signed: Entry | LedgerError) -> None:
    plan, draft = pipeline.plan, pipeline.draft
    number = pipeline.chunks.rows[position].number
    try:
        if isinstance(signed, LedgerError):
            raise signed
        entry = signed
        index = draft.state.index_of(entry.id)
        if index is not None:
            stored = pipeline.service.entries(plan.community, index, index + 1)[0]
            if stored != entry.entry_bytes():
                pipeline.cells(position).fail(
                    None,
                    "duplicate_id",
                    f"this row was already recorded (index {index}) with other content; "
                    "correct it with a reversal, not by editing the file",
                    f"此行已于第 {index} 条记录，但内容不同；更正请用冲正条目，不要修改文件后重新导入",
                )
                return
            plan.rows.append(PlannedRow(number, entry, recorded=True))
            return
        check_not_future(entry, pipeline.now)
        effect = judge(draft.state, entry, plan.verifier)  # as ``submit_batch`` judges it
        draft.append_judged(entry, effect)  # then folds it
    except LedgerError as exc:
        _row_refused(pipeline.cells(position), exc)
        return
    plan.rows.append(PlannedRow(number, entry, recorded=False))


def _row_refused(cells: RowCells, exc: LedgerError) -> None:
    field_match = re.search(r"body field '(\w+)", exc.en)
    name = ERROR_COLUMNS.get(field_match[1] if field_match else exc.code)
    if name is None and "month" in exc.en:
        name = "month"
    if name == "amount":  # the column that held it: 金额, or 收入 / 支出
        filled = (n for n in ("amount", "income", "expense") if cell_text(cells.raw(n)) is not None)
        name = next(filled, "amount")
    en, zh = _ENTRY_PREFIX.sub("", exc.en), _ENTRY_PREFIX.sub("", exc.zh)
    if exc.code == "future_at":  # the row's date at 12:00 Beijing time is still ahead
        en = "the date is in the future (rows count at 12:00 Beijing time that day)"
        zh = "日期在未来（导入的行按当天北京时间 12:00 计）"
    cells.fail(name, exc.code, en, zh)


# --- running it -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, in a dry run or with bad rows, would do)."""

    community: str
    dry_run: bool
    total_rows: int
    errors: list[RowError]
    to_record: list[PlannedRow]
    already_recorded: int
    recorded: list[Appended]

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self, lang: str = "zh") -> list[str]:
        """The report as the command line prints it."""
        zh = lang.lower().startswith("zh")
        if self.errors:
            head = (
                f"{len({e.row for e in self.errors})} 行有误，本文件未记录任何内容："
                if zh
                else f"{len({e.row for e in self.errors})} bad row(s); nothing from this file was recorded:"
            )
            return [head, *(f"  {e.message(lang)} ({e.code})" for e in self.errors)]
        rows = [f"  {row.summary(lang)}" for row in self.to_record] if self.dry_run else []
        count, seen = len(self.to_record), self.already_recorded
        if zh:
            verb = "将记录" if self.dry_run else "已记录"
            tail = "（试运行，未写入）" if self.dry_run else ""
            return [
                *rows,
                f"共 {self.total_rows} 行：{verb} {count} 条，此前已记录 {seen} 条{tail}",
            ]
        verb = "would record" if self.dry_run else "recorded"
        tail = " (dry run: nothing written)" if self.dry_run else ""
        return [*rows, f"{self.total_rows} rows: {verb} {count}, already recorded {seen}{tail}"]


def run_import(
    service: LedgerService, plan: ImportPlan, dry_run: bool, progress: Progress | None = None
) -> ImportReport:
    """Record the plan's new entries in one atomic batch, unless a row is bad or it is a dry run."""
    new = plan.new

    def report(errors: list[RowError], recorded: list[Appended]) -> ImportReport:
        return ImportReport(
            plan.community, dry_run, plan.total_rows, errors, new, plan.already_recorded, recorded
        )

    if plan.errors or dry_run or not new:
        return report(plan.errors, [])
    if progress is not None:
        progress(0, len(new))
    try:
        results = _store(service, plan, [row.entry for row in new])
    except LedgerError as exc:  # the log changed since the plan was made
        number = next((r.number for r in new if r.entry.id == exc.entry_id), 0)
        en, zh = _ENTRY_PREFIX.sub("", exc.en), _ENTRY_PREFIX.sub("", exc.zh)
        return report([RowError(number, None, exc.code, zh, en)], [])
    plan.verifier.close()
    if progress is not None:
        progress(len(new), len(new))
    return report([], [a for a in results if a.created])


def _store(service: LedgerService, plan: ImportPlan, entries: list[Entry]) -> list[Appended]:
    """Store the plan's new entries, all or nothing; judged once unless the log moved.

    The plan's verdicts stand while the log still holds what the plan's draft started
    from; if another writer appended since, ``submit_batch`` judges every entry again on
    the newer state.
    """
    with gc_paused():
        judged = (
            None
            if plan.draft is None
            else service.append_judged(plan.community, plan.draft, entries)
        )
        return judged or service.submit_batch(plan.community, entries, verify=plan.verifier)
