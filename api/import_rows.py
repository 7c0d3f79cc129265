"""One row of a statement read through the mapping: the entry it records, or what is wrong.

``RowCells`` reads a row's cells by field and turns every problem into a ``RowError``
(the row number as the user sees it, the column's header, a stable code, why in both
languages). ``parse_row`` gives the row's entry type and body (``ParsedRow``), with the
content that identifies the bank transaction, from which the entry's id derives
(``entry_id``); ``sign_row`` signs the row's entry.

``RowPreparer`` reads and signs a file's rows in order, a chunk at a time (``Prepared``);
``PreparedRows`` does it ahead, in forked processes (one per core) where the platform
has ``fork``: each claims the next chunk no other has taken, signs its rows and checks
each signature it made, while the caller judges the rows on a core of its own. The forked processes
are given nothing: they have the parent's memory (the key never leaves it), and send
back only the chunks (parse errors, signed entries, the signatures' results) through
pipes.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import pickle
import re
import sys
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.import_files import CellError, Row, cell_text, to_date, to_fen, to_month
from api.import_mapping import (
    CATEGORY_ALIASES,
    FUND_ALIASES,
    KINDS,
    METHOD_ALIASES,
    YES,
    Mapping,
    norm,
)
from ledger.core.entry import (
    FORMAT_VERSION,
    MAX_SAFE_INTEGER,
    SIGNING_CONTEXT,
    Entry,
    canonical_bytes,
    jcs,
    sign_entry,
    signed_entry,
)
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.preverify import cpu_count


@dataclass(frozen=True)
class RowError:
    """A bad row: its number as the user sees it, the column (header), a stable code, why."""

    row: int
    column: str | None
    code: str
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        zh = lang.lower().startswith("zh")
        where = (f"第 {self.row} 行" if zh else f"row {self.row}") + (
            f"「{self.column}」"
            if zh and self.column
            else f" [{self.column}]"
            if self.column
            else ""
        )
        return f"{where}：{self.zh}" if zh else f"{where}: {self.en}"


class RowCells:
    """One row's cells read through the mapping; every problem becomes a ``RowError``."""

    def __init__(
        self,
        row: Row,
        located: dict[str, str],
        mapping: Mapping,
        errors: list[RowError],
        reported: set[str],
    ) -> None:
        self.row, self.located, self.mapping = row, located, mapping
        self.errors, self.reported = errors, reported
        self.failed: set[str] = set()

    def column(self, name: str) -> str:
        return self.located.get(name) or self.mapping.label(name)

    def raw(self, name: str) -> Any:
        header = self.located.get(name)
        return None if header is None else self.row.cells.get(header)

    def fail(self, name: str | None, code: str, en: str, zh: str) -> None:
        if name is not None:
            self.failed.add(name)
        column = self.column(name) if name is not None else None
        self.errors.append(RowError(self.row.number, column, code, zh, en))

    def parse(self, name: str, reader: Callable[[Any], Any]) -> Any:
        raw = self.raw(name)
        if cell_text(raw) is None:
            return None
        try:
            return reader(raw)
        except CellError as exc:
            self.fail(name, exc.code, exc.en, exc.zh)
            return None

    def text(self, name: str) -> str | None:
        return cell_text(self.raw(name))

    def require(self, name: str, value: Any, why_en: str = "", why_zh: str = "") -> Any:
        if value is not None or name in self.failed:
            return value
        if name not in self.located:
            if name not in self.reported:  # once per file, at the header row
                self.reported.add(name)
                names = self.mapping.columns.get(name, ())
                self.errors.append(
                    RowError(
                        self.row.header_row,
                        self.mapping.label(name),
                        "missing_column",
                        f"文件中没有「{'/'.join(names)}」列{why_zh}",
                        f"the file has no {name} column ({', '.join(names)}){why_en and ' ' + why_en}",
                    )
                )
            self.failed.add(name)
            return None
        self.fail(name, "missing_value", f"required{why_en and ' ' + why_en}", f"不能为空{why_zh}")
        return None

    def alias(self, name: str, table: dict[str, str], default: str | None = None) -> str | None:
        text = self.text(name)
        if text is None:
            return default
        value = table.get(norm(text))
        if value is None:
            known = ", ".join(sorted({v for v in table.values()}))
            self.fail(
                name,
                f"unknown_{name}",
                f"{text!r} is not a known {name} ({known})",
                f"无法识别的{self.column(name)} {text!r}（可用：{known}）",
            )
        return value


@dataclass(frozen=True)
class ParsedRow:
    day: date
    kind: str
    fen: int
    entry_type: str
    body: dict[str, Any]
    key: tuple[Any, ...]


def amount_and_kind(c: RowCells) -> tuple[int | None, str | None]:
    """The row's amount in fen (positive) and its kind; an outflow infers ``expense``."""
    from_income = False
    if cell_text(c.raw("amount")) is not None:
        fen = c.parse("amount", to_fen)
    else:
        income = c.parse("income", to_fen) or None
        outflow = c.parse("expense", to_fen) or None
        if income and outflow:
            c.fail(
                "income",
                "two_amounts",
                "both income and expense are filled",
                "收入与支出不能同时填写",
            )
            return None, None
        from_income = income is not None
        fen = income if income is not None else (-abs(outflow) if outflow is not None else None)
        if fen is None and not c.failed & {"income", "expense"}:
            name = next((n for n in ("amount", "income", "expense") if n in c.located), "amount")
            c.require(name, None)
    kind_text = c.text("kind")
    kind = c.mapping.kind_of(kind_text) if kind_text is not None else None
    if kind_text is not None and kind is None:
        c.fail(
            "kind",
            "unknown_kind",
            f"{kind_text!r} is not a known kind (see docs/import.md)",
            f"无法识别的类型 {kind_text!r}（见 docs/import.md）",
        )
    elif kind_text is None:
        inferred = "expense" if fen is not None and fen < 0 else c.mapping.default_kind
        kind = c.require("kind", inferred)
    if fen is None or kind is None:
        return None, kind
    outgoing = KINDS[kind].type == "expense.paid"
    if fen == 0:
        c.fail("amount", "zero_amount", "the amount is zero", "金额为零")
    elif (fen < 0 and not outgoing) or (from_income and outgoing):
        name = "expense" if fen < 0 and "expense" in c.located and not from_income else "amount"
        c.fail(
            name,
            "wrong_direction",
            f"money {'out' if fen < 0 else 'in'} does not fit kind {kind}",
            f"{'支出' if fen < 0 else '收入'}与类型 {kind} 不符",
        )
    else:
        return abs(fen), kind
    return None, kind


def parse_row(c: RowCells, community: str) -> ParsedRow | None:
    day = c.require("date", c.parse("date", to_date))
    fen, kind = amount_and_kind(c)
    if kind is None:
        return None
    spec = KINDS[kind]
    body: dict[str, Any] = dict(spec.fixed)
    unit = month = None
    payee = published_text = None
    if spec.type == "contribution.received":
        unit = c.require(
            "unit", _unit(c.text("unit")), "for a payment from a unit", "（住户缴款须注明房号）"
        )
        if kind == "property_fee":
            month = c.require(
                "month",
                c.parse("month", to_month),
                "for a property fee",
                "（物业费须注明所属月份）",
            )
            body["month"] = month
        body["unit"] = unit
        if (method := c.alias("method", METHOD_ALIASES)) is not None:
            body["method"] = method
    elif spec.type == "revenue.received":
        published_text = c.text("description")
        if published_text is not None:
            body["description"] = published_text
    elif spec.type == "donation.received":
        if (purpose := c.text("purpose")) is not None:
            body["purpose"] = purpose
        if norm(c.text("donor_consent") or "") in YES:
            payee = c.require(
                "counterparty",
                c.text("counterparty"),
                "to name a consenting donor",
                "（同意署名须填写捐赠人）",
            )
            body.update(donor=payee, donor_consent=True)
    elif spec.type == "interest.credited":
        body["fund"] = c.alias("fund", FUND_ALIASES, "maintenance")
        month = c.parse("month", to_month)
        if month is not None:
            body["period"] = month
    else:  # expense.paid
        body["fund"] = c.require("fund", c.alias("fund", FUND_ALIASES, c.mapping.default_fund))
        body["category"] = c.require(
            "category", c.alias("category", CATEGORY_ALIASES, c.mapping.default_category)
        )
        payee = c.require("counterparty", c.text("counterparty"), "(the payee)", "（收款方）")
        published_text = c.require("description", c.text("description"))
        body.update(payee=payee, description=published_text)
        if (purpose := c.text("purpose")) is not None:
            body["purpose"] = purpose
    reference = c.text("reference")
    if reference is not None and spec.type != "expense.paid":
        body["reference"] = reference
    if c.failed or day is None or fen is None:
        return None
    body["amount_fen"] = fen
    # The id hashes what identifies the bank transaction, never an unpublished name.
    key = (
        community,
        day.isoformat(),
        fen,
        kind,
        unit or "",
        month or "",
        reference or "",
        payee or "",
        published_text or "",
    )
    return ParsedRow(day, kind, fen, spec.type, body, key)


def _unit(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


IMPORT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "glasspocket/import")
_NAMESPACE_BYTES = IMPORT_NAMESPACE.bytes


def entry_id(parsed: ParsedRow, seen: dict[bytes, int]) -> str:
    """The row's entry id: from its identifying content and its occurrence in the file."""
    identity = identity_bytes(parsed.key)
    occurrence = seen.get(identity, 0)
    seen[identity] = occurrence + 1
    return import_uuid(identity + f"#{occurrence}".encode())


def import_uuid(name: bytes) -> str:
    """``str(uuid.uuid5(IMPORT_NAMESPACE, name))``, without building a ``UUID`` object."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_IDENTITY_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def identity_bytes(key: tuple[Any, ...]) -> bytes:
    """``jcs(list(key))``: the C JSON encoder gives the same bytes for strings and safe ints.

    (An array has no member order to differ in; RFC 8785 escapes exactly what ``json``
    escapes.) Anything else, or a string that is not valid Unicode, goes through ``jcs``.
    """
    plain = all(isinstance(v, str) or (type(v) is int and abs(v) <= MAX_SAFE_INTEGER) for v in key)
    if plain:
        try:
            return _IDENTITY_JSON.encode(list(key)).encode()
        except UnicodeEncodeError:
            pass
    return jcs(list(key))


def sign_row(
    community: str,
    key: SigningKey,
    parsed: ParsedRow,
    entry_id: str,
    signer: tuple[str, str] | None = None,
) -> Entry | LedgerError:
    """The row's signed entry (``at`` = its date at noon), or why it cannot be signed.

    As ``ledger.core.entry.sign_entry`` makes it: the key signs the JCS of the unsigned
    entry, and the signed entry is checked by ``parse_entry`` like any submission.
    ``signer`` is the key's (name, key id), computed once per file by the caller.
    """
    name, key_id = signer or signer_of(key)
    at = f"{parsed.day.isoformat()}T12:00:00+08:00"
    unsigned: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "community": community,
        "id": entry_id,
        "type": parsed.entry_type,
        "at": at,
        "body": dict(parsed.body),
        "signer": name,
        "key_id": key_id,
    }
    try:
        try:
            unsigned_bytes = canonical_bytes(unsigned)
        except LedgerError:  # no canonical form: sign_entry says why, as it always did
            return sign_entry(
                key,
                community=community,
                type=parsed.entry_type,
                body=parsed.body,
                at=at,
                entry_id=entry_id,
            )
        signature = key.sign(SIGNING_CONTEXT + unsigned_bytes)
        # what sign_entry refuses before signing, signed_entry refuses (in the same order)
        return signed_entry(unsigned, unsigned_bytes, signature)
    except LedgerError as exc:
        return exc


def signer_of(key: SigningKey) -> tuple[str, str]:
    """The (signer, key_id) that an entry signed with ``key`` names."""
    verifier = key.verifier()
    return verifier.name, verifier.key_id_hex


# --- reading and signing a file's rows, ahead of the judge -------------------------------------


@dataclass(frozen=True)
class Prepared:
    """Rows ``start``..``stop`` (positions in the file's rows), read and signed.

    ``errors``: what is wrong with the rows that could not be read (row numbers as the
    user sees them); ``signed``: each readable row's position and its signed entry, or
    why it could not be signed. ``verified``: when the entries' signatures were checked
    where they were signed, one result per item of ``signed`` (False for a refusal);
    empty when they were not.
    """

    start: int
    stop: int
    errors: list[RowError] = field(default_factory=list)
    signed: list[tuple[int, Entry | LedgerError]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)


class RowPreparer:
    """Reads and signs a file's rows in order; keeps what spans rows (ids, missing columns)."""

    def __init__(
        self, rows: Sequence[Row], community: str, key: SigningKey, mapping: Mapping
    ) -> None:
        self.rows, self.community, self.key, self.mapping = rows, community, key, mapping
        self.located = mapping.locate(list(rows[0].cells) if rows else [])
        self.signer = signer_of(key)
        self.reported: set[str] = set()  # missing columns, reported once per file
        self.seen: dict[bytes, int] = {}  # occurrences of each row's identity, for its id
        self._public: Ed25519PublicKey | None = None

    def prepare(self, start: int, stop: int, sign: bool = True, verify: bool = False) -> Prepared:
        """Rows ``start``..``stop``; called with consecutive ranges from 0 (ids count rows).

        ``sign=False`` only reads them, to catch up with rows prepared elsewhere;
        ``verify``: check each signature made (``Prepared.verified``).
        """
        chunk = Prepared(start, stop)
        for position in range(start, stop):
            cells = RowCells(
                self.rows[position], self.located, self.mapping, chunk.errors, self.reported
            )
            parsed = parse_row(cells, self.community)
            if parsed is None:
                continue
            if sign:
                row_id = entry_id(parsed, self.seen)
                signed = sign_row(self.community, self.key, parsed, row_id, self.signer)
                chunk.signed.append((position, signed))
            else:  # only counted, for the ids of identical rows further on
                identity = identity_bytes(parsed.key)
                self.seen[identity] = self.seen.get(identity, 0) + 1
        if sign and verify:
            chunk.verified.extend(self._verify(entry) for _, entry in chunk.signed)
        return chunk

    def _verify(self, entry: Entry | LedgerError) -> bool:
        """The entry's signature checked with the key's public half (as ``verify_entry_signature``);
        its leaf hash is computed here too, on this core, for the log."""
        if not isinstance(entry, Entry):
            return False
        entry.leaf_hash()
        if self._public is None:
            self._public = Ed25519PublicKey.from_public_bytes(self.key.verifier().public_key)
        try:
            self._public.verify(entry.signature(), entry.signing_input())
        except (InvalidSignature, ValueError):
            return False
        return True


CHUNK_ROWS = 256  # rows per chunk (at most)
AHEAD_MIN_ROWS = 512  # a smaller file is read and signed in the caller's process
MAX_FORKS = 4  # forked processes reading and signing; the judge, one process, is the limit
PIPE_BYTES = 1 << 20  # the pipe holds a few chunks, so a forked process seldom waits


def can_prepare_ahead() -> bool:
    """Whether rows can be read and signed in a forked process here (Linux, ``fork``)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def fork_count() -> int:
    """Forked processes to read, sign and verify in: one per core (at most ``MAX_FORKS``)."""
    return max(1, min(cpu_count(), MAX_FORKS))


class PreparedRows:
    """The chunks of ``RowPreparer(rows, …)`` in order; read and signed ahead when it can.

    With ``ahead`` (the default when the platform can fork and the file is not small),
    ``forks`` forked processes (one per core) share the chunks: each walks every chunk in
    order and reads every row (a row's id counts the identical rows before it), claims
    the chunk it has reached unless another process already has, and signs only the
    chunks it claimed, checks the signatures it made and sends each through its pipe as
    soon as it is ready. A process that runs faster (the system gives it a core of its
    own) claims more, so all finish together. This process receives the chunks as they
    come and hands them on in order. Nothing is handed to those processes (they have
    this one's memory; the key never leaves it) and they write nothing. If one stops
    early, they are all stopped and the rest is prepared here with the same results (the
    rows already handed on are read again, not signed, to rebuild the preparer's state),
    their signatures then checked by the caller's verifier. A context manager: leaving
    it stops the processes.
    """

    def __init__(
        self,
        rows: Sequence[Row],
        community: str,
        key: SigningKey,
        mapping: Mapping,
        ahead: bool | None = None,
        forks: int | None = None,
    ) -> None:
        self.rows, self.community, self.key, self.mapping = rows, community, key, mapping
        self._preparer = RowPreparer(rows, community, key, mapping)
        count = len(rows)
        self._ranges = [
            (start, min(start + CHUNK_ROWS, count)) for start in range(0, count, CHUNK_ROWS)
        ]
        self._processes: list[Any] = []
        self._conns: list[Connection] = []
        if ahead if ahead is not None else count >= AHEAD_MIN_ROWS and can_prepare_ahead():
            self._start(forks or fork_count())

    @property
    def ahead(self) -> bool:
        """Whether the rows are being prepared (and their signatures checked) elsewhere."""
        return bool(self._conns)

    def _start(self, forks: int) -> None:
        context = multiprocessing.get_context("fork")
        claimed = context.Value("q", 0)  # the first chunk no process has claimed yet
        for _ in range(forks):
            receiver, sender = context.Pipe(duplex=False)
            with contextlib.suppress(ImportError, AttributeError, OSError):  # Linux: bigger
                import fcntl

                fcntl.fcntl(sender.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            process = context.Process(
                target=_prepare_all,
                args=(self._preparer, self._ranges, claimed, sender),
                name="glasspocket-import-rows",
                daemon=True,
            )
            try:
                process.start()
            except OSError:  # no process could be made: the rows are prepared here
                receiver.close()
                self.close()
                return
            finally:
                sender.close()  # the forked process has its own copy
            self._processes.append(process)
            self._conns.append(receiver)

    def __enter__(self) -> PreparedRows:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the forked processes, if they still run, and close the pipes."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
            process.join()
            process.close()
        for conn in self._conns:
            conn.close()
        self._processes, self._conns = [], []

    def __iter__(self) -> Iterator[Prepared]:
        handed, early = 0, dict[int, Prepared]()
        position = {start: number for number, (start, _) in enumerate(self._ranges)}
        open_conns = list(self._conns)
        while handed < len(self._ranges) and self._conns:
            chunk = early.pop(handed, None)
            if chunk is None:
                got = self._receive(open_conns) if open_conns else None
                if got is _FINISHED:
                    continue
                if not isinstance(got, Prepared):  # one stopped early: the rest is done here
                    self._fall_back(handed)
                    break
                if got.start != self._ranges[handed][0]:  # claimed by another, sent sooner
                    early[position[got.start]] = got
                    continue
                chunk = got
            handed += 1
            if handed == len(self._ranges):  # all received: let them exit, and reap them
                for process in self._processes:
                    process.join(timeout=5)
                self.close()
            yield chunk
        for start, stop in self._ranges[handed:]:
            yield self._preparer.prepare(start, stop)

    def _receive(self, open_conns: list[Connection]) -> object:
        """The next message from any forked process: a chunk, ``_FINISHED``, or None when
        one stopped without saying it had finished (or sent something else)."""
        ready = multiprocessing.connection.wait(open_conns)
        conn = ready[0]
        try:
            message = pickle.loads(conn.recv_bytes())  # type: ignore[union-attr]
        except Exception:  # EOF: it stopped (whatever the reason)
            return None
        if message == _FINISHED:
            open_conns.remove(conn)  # type: ignore[arg-type]
            return _FINISHED
        return message if isinstance(message, Prepared) else None

    def _fall_back(self, handed: int) -> None:
        self.close()
        if handed:
            self._preparer.prepare(0, self._ranges[handed - 1][1], sign=False)


_FINISHED = "finished"  # what a forked process sends after its last chunk


def _prepare_all(
    preparer: RowPreparer,
    ranges: list[tuple[int, int]],
    claimed: Any,
    sender: Connection,
) -> None:
    """A forked process: read every chunk in order, claim each one no other process has
    claimed yet, sign and check the chunks it claimed and send them; then say it has
    finished. On any error, just stop (the parent notices it did not finish)."""
    gc.freeze()  # the parent's objects: never scanned (so never copied) by this process's GC
    try:
        for number, (start, stop) in enumerate(ranges):
            with claimed.get_lock():
                mine = claimed.value == number
                if mine:
                    claimed.value = number + 1
            if not mine:
                preparer.prepare(start, stop, sign=False)
                continue
            chunk = preparer.prepare(start, stop, verify=True)
            sender.send_bytes(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
        sender.send_bytes(pickle.dumps(_FINISHED, pickle.HIGHEST_PROTOCOL))
    except BaseException:  # the parent prepares the rest itself, and meets the error there
        pass
    finally:
        sender.close()
