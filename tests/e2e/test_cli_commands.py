"""The ``glasspocket`` command line as a treasurer runs it, in subprocesses.

Every test works in its own folder with ``--db sqlite:///…`` and ``--keys DIR``;
LANG picks the language of messages (English unless a test says otherwise).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger.core.entry import Entry, sign_entry
from ledger.core.keys import SigningKey, VerifierKey
from ledger.core.policy import Policy, build_policy
from ledger.store.service import LedgerService

GLASSPOCKET = str(Path(sys.executable).with_name("glasspocket"))
AT = "2025-06-01T08:00:00Z"
COMMUNITY = "acme"
UNIT = "1-1-101"


RECORD_UNIT = "record unit -c acme --unit {unit} --building 1 --area-cm2 1 --owner own-1 --key"
RECORD_CONTRIBUTION = (
    "record contribution -c acme --unit 1-1-101 --fund property --month 2025-05 "
    "--amount {amount} --key"
)


def words(line: str, *paths: Path) -> tuple[str | Path, ...]:
    """A command line written as text, with file arguments appended."""
    return (*line.split(), *paths)


@dataclass
class Folder:
    """A working folder: the database, the keys folder the service holds, actors' key files."""

    root: Path

    @property
    def db(self) -> str:
        return f"sqlite:///{self.root / 'glasspocket.db'}"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    def command(self, *args: str | Path, store: bool = True) -> list[str]:
        extra = ["--db", self.db, "--keys", str(self.keys)] if store else []
        return [GLASSPOCKET, *map(str, args), *extra]

    def start(self, *args: str | Path, lang: str = "en_US.UTF-8", store: bool = True) -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "GLASSPOCKET_"))}
        return subprocess.Popen(
            self.command(*args, store=store),
            cwd=self.root,
            env={**env, "LANG": lang, "COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str | Path, **kw: Any) -> subprocess.CompletedProcess[str]:
        return finish(self.start(*args, **kw))

    def service(self) -> LedgerService:
        return LedgerService(self.db)

    def size(self) -> int:
        service = self.service()
        try:
            return service.size(COMMUNITY)
        finally:
            service.close()

    def entry(self, index: int) -> dict[str, Any]:
        service = self.service()
        try:
            return dict(json.loads(service.entries(COMMUNITY, index, index + 1)[0]))
        finally:
            service.close()


def finish(process: Any) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@dataclass
class Acme:
    """A community founded in-process (faster than through the CLI) with its keys on disk."""

    folder: Folder
    chair: SigningKey
    treasurer: SigningKey
    chair_file: Path
    treasurer_file: Path

    def contribution(self, unit: str = UNIT, amount_fen: int = 50_000) -> Entry:
        body = {"fund": "property", "unit": unit, "amount_fen": amount_fen, "month": "2025-05"}
        return sign_entry(
            self.treasurer, community=COMMUNITY, type="contribution.received", body=body, at=AT
        )

    def write_pretty(self, entry: Entry, name: str) -> Path:
        path = self.folder.root / name
        path.write_text(json.dumps(entry.as_dict(), indent=4, ensure_ascii=False) + "\n")
        return path


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    return Folder(tmp_path)


@pytest.fixture
def acme(folder: Folder) -> Acme:
    origin = f"localhost:8000/c/{COMMUNITY}/log"
    log_key = SigningKey.generate(origin)
    chair = SigningKey.generate(f"{COMMUNITY}/chair")
    treasurer = SigningKey.generate(f"{COMMUNITY}/treasurer")
    folder.keys.mkdir()
    log_key.save(folder.keys / "acme-log.key")
    chair.save(folder.root / "chair.key")
    treasurer.save(folder.root / "treasurer.key")
    service = LedgerService(folder.db, [log_key])
    founding = {
        "name": "Acme Gardens",
        "origin": origin,
        "keys": [{"vkey": str(chair.verifier()), "role": "committee"}],
    }
    service.found(
        sign_entry(chair, community=COMMUNITY, type="community.founded", body=founding, at=AT),
        str(build_policy(log_key.verifier(), [], "none")),
    )
    for key, entry_type, body in (
        (chair, "key.registered", {"vkey": str(treasurer.verifier()), "role": "treasurer"}),
        (
            treasurer,
            "unit.registered",
            {"unit": UNIT, "building": "1", "area_cm2": 890_000, "owner": "own-101"},
        ),
    ):
        service.submit(
            COMMUNITY, sign_entry(key, community=COMMUNITY, type=entry_type, body=body, at=AT)
        )
    service.close()
    return Acme(folder, chair, treasurer, folder.root / "chair.key", folder.root / "treasurer.key")


# --- keys -----------------------------------------------------------------------------------


def test_key_new_writes_a_private_file_and_prints_its_vkey(folder: Folder) -> None:
    """Given an empty folder,
    when ``key new acme/chair --out chair.key`` runs, and then again on the same file,
    then the first writes a 0600 key file and prints the vkey of that key, and the second
    refuses and leaves the file as it was."""
    target = folder.root / "chair.key"

    made = folder.run("key", "new", "acme/chair", "--out", target, store=False)

    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    vkey = VerifierKey.parse(made.stdout.strip())
    assert vkey.name == "acme/chair"
    assert vkey == SigningKey.load(target).verifier()
    content = target.read_bytes()

    again = folder.run("key", "new", "acme/chair", "--out", target, store=False)

    assert again.returncode == 1
    assert "key_file_exists" in again.stderr
    assert target.read_bytes() == content


def test_every_command_refuses_a_key_file_others_can_read(acme: Acme) -> None:
    """Given a community whose actors' key files and log key were 0600,
    when a key file is made readable by others (0644) and any command is given it,
    either as --key or inside the --keys folder,
    then each command exits non-zero, says to chmod it 0600, and appends nothing."""
    folder = acme.folder
    entry_file = acme.write_pretty(acme.contribution(), "entry.json")
    size = folder.size()
    acme.chair_file.chmod(0o644)
    acme.treasurer_file.chmod(0o644)
    with_key = [
        words("init -c other --name Other --key", acme.chair_file),
        words(RECORD_UNIT.format(unit="1-1-102"), acme.treasurer_file),
        words(RECORD_CONTRIBUTION.format(amount="1"), acme.treasurer_file),
        words(
            f"record key -c acme --vkey {acme.chair.verifier()} --role trustee --key",
            acme.chair_file,
        ),
        words(f"record revoke -c acme --name {acme.treasurer.name} --key", acme.chair_file),
    ]
    refused = [finish(p) for p in [folder.start(*args) for args in with_key]]

    acme.treasurer_file.chmod(0o600)
    (folder.keys / "acme-log.key").chmod(0o644)
    with_keys_folder = [
        words("submit", entry_file),
        words(RECORD_UNIT.format(unit="1-1-103"), acme.treasurer_file),
        words("log export -c acme", folder.root / "export"),
    ]
    refused += [finish(p) for p in [folder.start(*args) for args in with_keys_folder]]

    for result in refused:
        assert result.returncode != 0, result.args
        assert "key_file_permissions" in result.stderr, result.args
        assert "chmod 600" in result.stderr and "0644" in result.stderr
    assert folder.size() == size
    assert not (folder.root / "export").exists()


# --- recording ------------------------------------------------------------------------------


def test_init_and_record_store_entries_with_amounts_in_fen(folder: Folder) -> None:
    """Given a chair's and a treasurer's keys,
    when the chair runs ``init`` and registers the treasurer, and the treasurer records a
    unit and a contribution of 1234.56 yuan and then one of 1.234 yuan,
    then the log holds them with amount_fen 123456, a checkpoint that meets the
    policy, and the three-decimal amount is refused with nothing appended."""
    chair, treasurer = folder.root / "chair.key", folder.root / "treasurer.key"
    SigningKey.generate("acme/chair").save(chair)
    treasurer_key = SigningKey.generate("acme/treasurer")
    treasurer_key.save(treasurer)
    founded = folder.run("init", "-c", COMMUNITY, "--name", "Acme 阿克米", "--key", chair)
    assert founded.returncode == 0, founded.stderr
    log_key_file = folder.keys / "acme-log.key"
    assert stat.S_IMODE(log_key_file.stat().st_mode) == 0o600
    assert str(SigningKey.load(log_key_file).verifier()) in founded.stdout
    registered = folder.run(
        *words(f"record key -c acme --vkey {treasurer_key.verifier()} --role treasurer --key"),
        chair,
    )
    assert registered.returncode == 0, registered.stderr
    unit = folder.run(*words(RECORD_UNIT.format(unit=UNIT), treasurer), "--json")
    assert unit.returncode == 0, unit.stderr
    assert json.loads(unit.stdout) | {"id": None} == {
        "community": COMMUNITY,
        "index": 2,
        "id": None,
        "created": True,
        "checkpointed": True,
    }

    def contribution(amount: str) -> subprocess.CompletedProcess[str]:
        return folder.run(*words(RECORD_CONTRIBUTION.format(amount=amount), treasurer))

    recorded = contribution("1234.56")
    assert recorded.returncode == 0, recorded.stderr
    assert "recorded: acme #3" in recorded.stdout
    assert folder.entry(3)["body"]["amount_fen"] == 123_456

    refused = contribution("1.234")

    assert refused.returncode == 1
    assert "[malformed]" in refused.stderr and "1.234" in refused.stderr
    assert folder.size() == 4
    service = folder.service()
    try:
        info = service.community_info(COMMUNITY)
        latest = service.latest_checkpoint(COMMUNITY)
        assert latest is not None and latest[0] == 4
        assert Policy.parse(info["policy"]).check(latest[1]).size == 4
        assert info["origin"] == "localhost:8000/c/acme/log"
    finally:
        service.close()


# --- submitting pre-signed entries ----------------------------------------------------------


def test_submit_appends_a_pre_signed_file_once(acme: Acme) -> None:
    """Given a contribution signed elsewhere and saved as pretty-printed JSON,
    when ``submit FILE`` runs twice,
    then the first appends it at index 3 and the second exits 0 saying it is already there,
    appending nothing; with --json both print parsable results."""
    folder = acme.folder
    entry = acme.contribution()
    path = acme.write_pretty(entry, "contribution.json")

    first = folder.run("submit", path)
    again = folder.run("submit", path)
    as_json = json.loads(folder.run("submit", path, "--json").stdout)

    assert first.returncode == 0, first.stderr
    assert "recorded" in first.stdout and f"#3 {entry.id}" in first.stdout
    assert again.returncode == 0, again.stderr
    assert "already" in again.stdout and "#3" in again.stdout
    assert as_json == {
        "community": COMMUNITY,
        "index": 3,
        "id": entry.id,
        "created": False,
        "checkpointed": True,
    }
    assert folder.size() == 4
    assert folder.entry(3) == entry.as_dict()


def test_submit_of_a_refused_entry_exits_1_with_its_code(acme: Acme) -> None:
    """Given a pre-signed contribution for a unit that is not registered,
    when ``submit FILE`` runs,
    then it exits 1, prints the stable code and the reason, and appends nothing."""
    folder = acme.folder
    path = acme.write_pretty(acme.contribution(unit="9-9-909"), "bad.json")

    refused = folder.run("submit", path)

    assert refused.returncode == 1
    assert "[unknown_unit]" in refused.stderr
    assert "9-9-909 is not registered" in refused.stderr
    assert folder.size() == 3


def test_messages_follow_a_chinese_lang(acme: Acme) -> None:
    """Given LANG=zh_CN.UTF-8,
    when a good entry and a refused one are submitted,
    then the confirmation and the refusal are in Chinese, with the code unchanged."""
    folder = acme.folder
    good = acme.write_pretty(acme.contribution(), "good.json")
    bad = acme.write_pretty(acme.contribution(unit="9-9-909"), "bad.json")

    recorded = folder.run("submit", good, lang="zh_CN.UTF-8")
    refused = folder.run("submit", bad, lang="zh_CN.UTF-8")

    assert recorded.returncode == 0, recorded.stderr
    assert "已记录" in recorded.stdout
    assert refused.returncode == 1
    assert "[unknown_unit]" in refused.stderr and "房号 9-9-909 未登记" in refused.stderr
