"""Interop: a log export must open and authenticate with Go's golang.org/x/mod/sumdb.

SPEC sections 3 and 4: checkpoints are C2SP signed notes that must open with
``golang.org/x/mod/sumdb/note`` and the tiles must authenticate with
``golang.org/x/mod/sumdb/tlog``. The checker in ``gocheck/main.go`` does exactly
that; these tests build it (offline, GOPATH mode, against Debian's
golang-golang-x-mod-dev) and run it on exports.

Most exports come from ``_make_export``: an independent reference
writer for C2SP checkpoints and tlog-tiles, written from the standards with only
``hashlib`` and ``cryptography`` and sharing no code with ``ledger``. Passing the
Go checker proves the reference writer right, and the reference writer in turn
proves the checker rejects what it must.

The log served over HTTP by ``glasspocket serve`` is read by the same checker with
net/http (``served_demo``), so Go's sumdb authenticates what the API publishes too.

A resident's receipts (C2SP tlog-proof files, SPEC section 5) are checked by the same
program's ``--receipt`` mode with ``note.Open`` and ``tlog.CheckRecord`` alone: a
receipt is a standard tlog-proof any tlog-proof verifier can check.

The project's own export is checked too: ``demo_export`` runs ``glasspocket demo``
and ``glasspocket log export``; its tiles, bundles and root must equal the reference
writer's byte for byte, pass the Go checker (also for consistency with every
checkpoint stored on the way), and fail it with any byte changed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

pytestmark = pytest.mark.go

GOCODE = Path("/usr/share/gocode")  # Debian's GOPATH tree for golang-*-dev packages
XMOD = GOCODE / "src/golang.org/x/mod/sumdb"
CHECKER_SRC = Path(__file__).parent / "gocheck" / "main.go"

ORIGIN = "example.org/c/test-community/log"
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
SIZES = [1, 255, 256, 257, 70000]  # 70000 leaves reach level-1 and level-2 tiles


# --- independent reference writer (C2SP tlog-tiles + tlog-checkpoint) ------


def _leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(entries: list[bytes]) -> list[list[bytes]]:
    """levels[k][j] is the RFC 6962 hash of the perfect subtree of leaves [j*2^k, (j+1)*2^k)."""
    levels = [[_leaf_hash(e) for e in entries]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([_node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def _root(levels: list[list[bytes]], size: int) -> bytes:
    """RFC 6962 MTH: the perfect subtrees named by size's bits, folded from the right."""
    if size == 0:
        return hashlib.sha256(b"").digest()
    subtrees, start = [], 0
    for k in reversed(range(size.bit_length())):
        if size >> k & 1:
            subtrees.append(levels[k][start >> k])
            start += 1 << k
    root = subtrees.pop()
    while subtrees:
        root = _node_hash(subtrees.pop(), root)
    return root


def _tile_path(level: str | int, n: int, width: int) -> str:
    """C2SP: tile/<L>/<N>[.p/<W>], N in 3-digit path elements, all but the last x-prefixed."""
    parts = [f"{n % 1000:03d}"]
    while n >= 1000:
        n //= 1000
        parts.insert(0, f"x{n % 1000:03d}")
    path = f"tile/{level}/{'/'.join(parts)}"
    return path if width == TILE_WIDTH else f"{path}.p/{width}"


def _key_hash(name: str, key_type: int, pub: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + pub).digest()[:4]


def _pub(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _vkey(name: str, key: Ed25519PrivateKey) -> str:
    pub = _pub(key)
    key_data = base64.b64encode(bytes([1]) + pub).decode()
    return f"{name}+{_key_hash(name, 1, pub).hex()}+{key_data}"


def _sig_line(name: str, sig: bytes) -> str:
    return f"\u2014 {name} {base64.b64encode(sig).decode()}\n"


def _checkpoint(size: int, root: bytes, key: Ed25519PrivateKey, witness: bool) -> str:
    body = f"{ORIGIN}\n{size}\n{base64.b64encode(root).decode()}\n"
    text = (
        body + "\n" + _sig_line(ORIGIN, _key_hash(ORIGIN, 1, _pub(key)) + key.sign(body.encode()))
    )
    if witness:  # a C2SP tlog-cosignature/v1 line, which the log verifier must ignore
        wkey, wname, ts = Ed25519PrivateKey.generate(), "witness.example.org", 1_700_000_000
        signed = f"cosignature/v1\ntime {ts}\n{body}".encode()
        cosig = _key_hash(wname, 4, _pub(wkey)) + struct.pack(">Q", ts) + wkey.sign(signed)
        text += _sig_line(wname, cosig)
    return text


def _make_export(
    tmpdir: Path,
    entries: list[bytes],
    *,
    key: Ed25519PrivateKey | None = None,
    witness: bool = True,
) -> tuple[Path, str]:
    """Write a C2SP tlog-tiles export (height 8) of ``entries`` under ``tmpdir``.

    Independent reference writer: hash tile L holds the hashes of the perfect
    subtrees at tree level 8*L (2^(8L) leaves each), 256 per full tile, the last
    one partial (``.p/W``); entry bundle N holds entries [256N, 256N+W) each as a
    big-endian uint16 length then the bytes. Returns (directory, log vkey).
    """
    key = key or Ed25519PrivateKey.generate()
    size = len(entries)
    levels = _levels(entries)
    out = Path(tmpdir)

    def write(rel: str, data: bytes) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    for n in range(0, size, TILE_WIDTH):
        chunk = entries[n : n + TILE_WIDTH]
        bundle = b"".join(struct.pack(">H", len(e)) + e for e in chunk)
        write(_tile_path("entries", n // TILE_WIDTH, len(chunk)), bundle)
    for tile_level in range(0, len(levels), TILE_HEIGHT):
        hashes = levels[tile_level]
        for n in range(0, len(hashes), TILE_WIDTH):
            chunk = hashes[n : n + TILE_WIDTH]
            write(
                _tile_path(tile_level // TILE_HEIGHT, n // TILE_WIDTH, len(chunk)), b"".join(chunk)
            )
    write("checkpoint", _checkpoint(size, _root(levels, size), key, witness).encode())
    return out, _vkey(ORIGIN, key)


def _entries(size: int, salt: str = "") -> list[bytes]:
    """Deterministic entries of varied length, including one at the 16 KiB maximum."""
    out = [f'{{"i":{i},"salt":"{salt}","pad":"{"x" * (i % 97)}"}}'.encode() for i in range(size)]
    if size > 200:
        out[200] = b"y" * 16384
    return out


# --- the checker --------------------------------------------------------------


def _missing_go() -> str | None:
    if shutil.which("go") is None:
        return "the `go` command is not installed (apt-get install golang-go)"
    if not (XMOD / "note" / "note.go").is_file() or not (XMOD / "tlog" / "tile.go").is_file():
        return (
            f"golang.org/x/mod sources are not under {GOCODE} "
            "(apt-get install golang-golang-x-mod-dev)"
        )
    return None


@pytest.fixture(scope="session")
def gocheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = _missing_go()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Go interop check, but {reason}; see .ci/install-go.sh")
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("gocheck")
    binary = tmp / "gocheck"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOCODE),
        "GOCACHE": str(tmp / "cache"),
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    proc = subprocess.run(
        ["go", "build", "-o", str(binary), str(CHECKER_SRC)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"building the Go checker failed:\n{proc.stderr}"
    return binary


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def run_gocheck(gocheck: Path) -> Run:
    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(gocheck), *(str(a) for a in args)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    return run


def _assert_ok(proc: subprocess.CompletedProcess[str], size: int) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"ok origin={ORIGIN} size={size} entries={size}"), proc.stdout


def _assert_rejected(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, f"checker accepted a bad export: {proc.stdout}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    export, vkey = _make_export(tmp_path_factory.mktemp("big"), _entries(70000), key=key)
    return export, vkey, key


@pytest.fixture
def tampered(tmp_path: Path, big_export: tuple[Path, str, Ed25519PrivateKey]) -> Path:
    """A fresh copy of the 70000-leaf export to damage."""
    return Path(shutil.copytree(big_export[0], tmp_path / "export"))


# --- tests --------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_reference_export_authenticates(tmp_path: Path, run_gocheck: Run, size: int) -> None:
    export, vkey = _make_export(tmp_path, _entries(size))
    _assert_ok(run_gocheck(export, vkey), size)


def test_reference_layout_has_expected_tiles(
    big_export: tuple[Path, str, Ed25519PrivateKey],
) -> None:
    """Guards the reference writer itself: 70000 = 273*256 + 112 leaves."""
    export = big_export[0]
    for rel in [
        "tile/0/000",
        "tile/0/272",
        "tile/0/273.p/112",
        "tile/1/000",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
        "tile/entries/273.p/112",
    ]:
        assert (export / rel).is_file(), rel
    assert (export / "tile/1/001.p/17").stat().st_size == 17 * 32
    assert not (export / "tile/3").exists()


def test_x_prefixed_paths() -> None:
    assert _tile_path(0, 1234, 256) == "tile/0/x001/234"
    assert _tile_path("entries", 1234067, 8) == "tile/entries/x001/x234/067.p/8"


@pytest.mark.parametrize(
    "rel",
    [
        "tile/entries/000",
        "tile/entries/273.p/112",
        "tile/0/000",
        "tile/0/273.p/112",
        "tile/1/000",
        "tile/2/000.p/1",
    ],
)
def test_flipped_byte_is_rejected(tampered: Path, run_gocheck: Run, big_export, rel: str) -> None:
    path = tampered / rel
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    _assert_rejected(run_gocheck(tampered, big_export[1]))


def test_missing_partial_tile_is_rejected(tampered: Path, run_gocheck: Run, big_export) -> None:
    (tampered / "tile/0/273.p/112").unlink()
    _assert_rejected(run_gocheck(tampered, big_export[1]))


def test_forged_entry_with_matching_leaf_hash_is_rejected(
    tampered: Path, run_gocheck: Run, big_export
) -> None:
    """Entry 128 replaced, and its leaf hash in the full tile tile/0/000 with it.

    x/mod 0.7.0's TileHashReader alone accepts this for size 70000 (it does not
    authenticate tile/0/000 against tile/1/000 there); the checker must not.
    """
    bundle = tampered / "tile/entries/000"
    data, entries = bundle.read_bytes(), []
    while data:
        (length,) = struct.unpack(">H", data[:2])
        entries.append(data[2 : 2 + length])
        data = data[2 + length :]
    entries[128] = b"X" + entries[128][1:]
    bundle.write_bytes(b"".join(struct.pack(">H", len(e)) + e for e in entries))
    tile = bytearray((tampered / "tile/0/000").read_bytes())
    tile[128 * 32 : 129 * 32] = _leaf_hash(entries[128])
    (tampered / "tile/0/000").write_bytes(bytes(tile))
    _assert_rejected(run_gocheck(tampered, big_export[1]))


def _checkpoint_lines(export: Path) -> list[str]:
    return (export / "checkpoint").read_text().splitlines(keepends=True)


def test_log_signature_removed_is_rejected(tampered: Path, run_gocheck: Run, big_export) -> None:
    """Only the witness cosignature is left: an unknown signer, so the note is unverified."""
    lines = _checkpoint_lines(tampered)
    log_sig = [i for i, line in enumerate(lines) if line.startswith(f"\u2014 {ORIGIN} ")]
    assert len(log_sig) == 1
    del lines[log_sig[0]]
    (tampered / "checkpoint").write_text("".join(lines))
    out = _assert_rejected(run_gocheck(tampered, big_export[1]))
    assert "signature" in out


def test_all_signatures_removed_is_rejected(tampered: Path, run_gocheck: Run, big_export) -> None:
    lines = _checkpoint_lines(tampered)
    (tampered / "checkpoint").write_text("".join(lines[:4]))
    _assert_rejected(run_gocheck(tampered, big_export[1]))


def test_bad_log_signature_is_rejected(tampered: Path, run_gocheck: Run, big_export) -> None:
    lines = _checkpoint_lines(tampered)
    prefix, b64 = lines[4].rsplit(" ", 1)
    sig = bytearray(base64.b64decode(b64))
    sig[10] ^= 0x01
    lines[4] = f"{prefix} {base64.b64encode(bytes(sig)).decode()}\n"
    (tampered / "checkpoint").write_text("".join(lines))
    _assert_rejected(run_gocheck(tampered, big_export[1]))


def test_other_log_key_is_rejected(run_gocheck: Run, big_export) -> None:
    other = _vkey(ORIGIN, Ed25519PrivateKey.generate())
    _assert_rejected(run_gocheck(big_export[0], other))


def test_root_not_matching_tiles_is_rejected(tmp_path: Path, run_gocheck: Run) -> None:
    """A correctly signed checkpoint over tiles of other entries."""
    key = Ed25519PrivateKey.generate()
    export, vkey = _make_export(tmp_path / "a", _entries(300), key=key)
    other, _ = _make_export(tmp_path / "b", _entries(300, salt="fork"), key=key)
    shutil.copy(other / "checkpoint", export / "checkpoint")
    _assert_rejected(run_gocheck(export, vkey))


def test_consistency_with_older_checkpoint(tmp_path: Path, run_gocheck: Run, big_export) -> None:
    export, vkey, key = big_export
    for size in [1, 256, 300, 70000]:
        older, _ = _make_export(tmp_path / str(size), _entries(70000)[:size], key=key)
        proc = run_gocheck(export, vkey, "--older", str(older / "checkpoint"))
        _assert_ok(proc, 70000)
        assert f"consistent-from={size}" in proc.stdout


def test_forked_older_checkpoint_is_rejected(tmp_path: Path, run_gocheck: Run, big_export) -> None:
    export, vkey, key = big_export
    forked = _entries(70000)[:300]
    forked[299] = b"a different entry 299"
    older, _ = _make_export(tmp_path / "fork", forked, key=key)
    out = _assert_rejected(run_gocheck(export, vkey, "--older", str(older / "checkpoint")))
    assert "consistency" in out


# --- the project's own export, made by the command line -----------------------------------


BIN = Path(sys.executable).parent
DEMO_ORIGIN = "localhost:8000/c/demo/log"


def _glasspocket(*args: str | Path) -> None:
    proc = subprocess.run(
        [str(BIN / "glasspocket"), *(str(a) for a in args)],
        env={**os.environ, "LANG": "en"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, f"glasspocket {args[0]} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """``glasspocket demo --no-serve`` then ``glasspocket log export``: (export, log vkey, db url).

    The log vkey is read from the exported policy, as a resident would pin it.
    """
    tmp = tmp_path_factory.mktemp("demo-export")
    db_url, keys, export = f"sqlite:///{tmp / 'demo.db'}", tmp / "keys", tmp / "export"
    _glasspocket("demo", "--no-serve", "--db", db_url, "--keys", keys)
    _glasspocket("log", "export", "--community", "demo", "--db", db_url, "--keys", keys, export)
    [log_line] = [
        line for line in (export / "policy").read_text().splitlines() if line.startswith("log ")
    ]
    return export, log_line.split(" ", 1)[1], db_url


def _bundle_entries(data: bytes) -> list[bytes]:
    entries = []
    while data:
        (length,) = struct.unpack(">H", data[:2])
        entries.append(data[2 : 2 + length])
        data = data[2 + length :]
    return entries


def _demo_entries(export: Path) -> list[bytes]:
    size = int((export / "checkpoint").read_text().split("\n")[1])
    entries: list[bytes] = []
    for n in range(0, size, TILE_WIDTH):
        entries += _bundle_entries(
            (
                export / _tile_path("entries", n // TILE_WIDTH, min(TILE_WIDTH, size - n))
            ).read_bytes()
        )
    assert len(entries) == size
    return entries


def test_demo_export_authenticates(run_gocheck: Run, demo_export: tuple[Path, str, str]) -> None:
    """The checkpoint opens with x/mod's note and the tiles authenticate with its tlog."""
    export, vkey, _ = demo_export
    proc = run_gocheck(export, vkey)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    size = len(_demo_entries(export))
    assert proc.stdout.startswith(f"ok origin={DEMO_ORIGIN} size={size} entries={size}"), (
        proc.stdout
    )


def test_unit_receipts_are_tlog_proofs_go_checks(
    run_gocheck: Run, demo_export: tuple[Path, str, str], tmp_path: Path
) -> None:
    """A resident's receipts (SPEC 5) check with x/mod's note and tlog.CheckRecord alone."""
    export, vkey, db_url = demo_export
    receipts = tmp_path / "receipts"
    keys = export.parent / "keys"
    _glasspocket(
        "receipt", "--community", "demo", "--unit", "1-1-102", "--out", receipts,
        "--db", db_url, "--keys", keys,
    )  # fmt: skip
    files = sorted(receipts.glob("*.tlog-proof"))
    assert len(files) > 10
    for receipt in files:
        proc = run_gocheck("--receipt", receipt, vkey)
        assert proc.returncode == 0, f"{receipt.name}: {proc.stdout}{proc.stderr}"
        assert proc.stdout.startswith("ok receipt index="), proc.stdout


def test_a_receipt_with_another_index_or_entry_fails_go(
    run_gocheck: Run, demo_export: tuple[Path, str, str], tmp_path: Path
) -> None:
    export, vkey, db_url = demo_export
    receipts = tmp_path / "receipts"
    _glasspocket(
        "receipt", "--community", "demo", "--unit", "1-1-102", "--out", receipts,
        "--db", db_url, "--keys", export.parent / "keys",
    )  # fmt: skip
    text = sorted(receipts.glob("*.tlog-proof"))[0].read_text()
    index_line = next(line for line in text.splitlines() if line.startswith("index "))
    other_index = f"index {int(index_line.split()[1]) + 1}"
    extra_line = next(line for line in text.splitlines() if line.startswith("extra "))
    entry = base64.b64decode(extra_line.split()[1]) + b" "  # other bytes, other leaf
    other_entry = f"extra {base64.b64encode(entry).decode()}"
    for bad in (text.replace(index_line, other_index), text.replace(extra_line, other_entry)):
        forged = tmp_path / "forged.tlog-proof"
        forged.write_text(bad)
        proc = run_gocheck("--receipt", forged, vkey)
        assert proc.returncode == 1 and "inclusion proof" in proc.stdout, proc.stdout
    assert run_gocheck("--receipt", sorted(receipts.glob("*.tlog-proof"))[0], "x+1+AA").returncode


def test_demo_export_matches_reference_writer(
    tmp_path: Path, demo_export: tuple[Path, str, str]
) -> None:
    """Every tile, bundle and the root of the export equal the independent reference writer's."""
    export = demo_export[0]
    reference, _ = _make_export(tmp_path, _demo_entries(export), witness=False)
    files = [p for p in reference.rglob("*") if p.is_file() and p.name != "checkpoint"]
    assert any("entries" in p.parts for p in files) and any(
        p.parent.name.endswith(".p") for p in files
    )
    for path in files:
        rel = path.relative_to(reference)
        assert (export / rel).read_bytes() == path.read_bytes(), rel
    body = (export / "checkpoint").read_text().split("\n\n")[0]
    assert body == (reference / "checkpoint").read_text().split("\n\n")[0].replace(
        ORIGIN, DEMO_ORIGIN
    )


def test_demo_export_consistent_with_every_older_checkpoint(
    tmp_path: Path, run_gocheck: Run, demo_export: tuple[Path, str, str]
) -> None:
    """Each checkpoint the demo stored on its way is a prefix of the exported tree, for Go."""
    from ledger.store.service import LedgerService

    export, vkey, db_url = demo_export
    service = LedgerService(db_url)
    try:
        sizes = service.checkpoint_sizes("demo")
        notes = {size: service.checkpoint_note("demo", size) for size in sizes}
    finally:
        service.close()
    assert len(notes) > 1
    for size, note in notes.items():
        older = tmp_path / f"checkpoint-{size}"
        older.write_text(note)
        proc = run_gocheck(export, vkey, "--older", str(older))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"consistent-from={size}" in proc.stdout


@pytest.mark.parametrize("rel", ["tile/entries/000", "tile/0/000", "checkpoint"])
def test_demo_export_with_flipped_byte_is_rejected(
    tmp_path: Path, run_gocheck: Run, demo_export: tuple[Path, str, str], rel: str
) -> None:
    export, vkey, _ = demo_export
    damaged = Path(shutil.copytree(export, tmp_path / "export"))
    data = bytearray((damaged / rel).read_bytes())
    # In the checkpoint, a byte of the signed text: Go ignores the witnesses' lines after it.
    middle = data.index(b"\n\n") // 2 if rel == "checkpoint" else len(data) // 2
    data[middle] ^= 0x01
    (damaged / rel).write_bytes(bytes(data))
    _assert_rejected(run_gocheck(damaged, vkey))


# --- the same log served over HTTP by `glasspocket serve` ----------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read()
        return data


@pytest.fixture(scope="module")
def served_demo(
    demo_export: tuple[Path, str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``glasspocket serve`` on the demo's database, as a child process on a free port.

    Yields the log's URL prefix (``http://127.0.0.1:<port>/c/demo/log``) once the
    checkpoint answers; the server is stopped (SIGTERM, then SIGKILL) afterwards.
    """
    export, _, db_url = demo_export
    port = _free_port()
    keys = export.parent / "keys"
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLASSPOCKET_")}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "glasspocket"), "serve", "--db", db_url, "--keys", str(keys),
             "--port", str(port)],
            stdout=sink, stderr=sink, env={**env, "LANG": "en"},
        )  # fmt: skip
    prefix = f"http://127.0.0.1:{port}/c/demo/log"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"serve exited: {log.read_text(errors='replace')}"
            try:
                _get(prefix + "/checkpoint")
                break
            except OSError:
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.1)
        yield prefix
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_served_log_authenticates(
    run_gocheck: Run, demo_export: tuple[Path, str, str], served_demo: str
) -> None:
    """Given the demo served by `glasspocket serve`,
    when Go's sumdb note and tlog read its checkpoint and tiles over HTTP (net/http),
    then the log authenticates, with the same checkpoint the export published."""
    export, vkey, _ = demo_export

    proc = run_gocheck(served_demo, vkey)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    size = len(_demo_entries(export))
    assert proc.stdout.startswith(f"ok origin={DEMO_ORIGIN} size={size} entries={size}"), (
        proc.stdout
    )
    assert _get(served_demo + "/checkpoint") == (export / "checkpoint").read_bytes()


def test_served_log_is_consistent_with_every_older_checkpoint(
    tmp_path: Path, run_gocheck: Run, demo_export: tuple[Path, str, str], served_demo: str
) -> None:
    """Each checkpoint stored on the way is a prefix of the served tree, for Go over HTTP."""
    from ledger.store.service import LedgerService

    _, vkey, db_url = demo_export
    service = LedgerService(db_url)
    try:
        sizes = service.checkpoint_sizes("demo")
        notes = {
            size: service.checkpoint_note("demo", size)
            for size in sizes[:: max(1, len(sizes) // 8)]
        }
    finally:
        service.close()
    for size, note in notes.items():
        older = tmp_path / f"checkpoint-{size}"
        older.write_text(note)
        proc = run_gocheck(served_demo, vkey, "--older", str(older))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"consistent-from={size}" in proc.stdout


def test_served_log_fails_under_another_key_or_prefix(run_gocheck: Run, served_demo: str) -> None:
    """The HTTP reader is not lenient: another log key, or a prefix with no log, is refused."""
    other = _vkey(DEMO_ORIGIN, Ed25519PrivateKey.generate())
    _assert_rejected(run_gocheck(served_demo, other))
    out = _assert_rejected(run_gocheck(served_demo.replace("/c/demo/", "/c/nowhere/"), other))
    assert "404" in out
