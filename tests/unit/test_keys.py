"""Signed-note keys: key ids, vkeys, private key lines and key files (Go note_test.go vectors)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest

from ledger.core.errors import (
    InvalidSignatureError,
    KeyFileExistsError,
    KeyFilePermissionError,
    KeyFormatError,
)
from ledger.core.keys import (
    KEY_TYPE_COSIGNATURE,
    KEY_TYPE_ED25519,
    SigningKey,
    VerifierKey,
    key_id,
    load_key_dir,
)

# From golang.org/x/mod/sumdb/note (note.go doc comment and note_test.go).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"


def test_key_id_is_sha256_of_name_newline_type_key() -> None:
    public = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]
    independent = hashlib.sha256(b"PeterNeumann\n\x01" + public).digest()[:4]
    assert key_id("PeterNeumann", KEY_TYPE_ED25519, public) == independent
    assert independent.hex() == "c74f20a3"


def test_key_id_depends_on_type() -> None:
    public = bytes(range(32))
    assert key_id("w", KEY_TYPE_ED25519, public) != key_id("w", KEY_TYPE_COSIGNATURE, public)


@pytest.mark.parametrize("vkey", [PETER_VKEY, ENOCH_VKEY])
def test_vkey_round_trips(vkey: str) -> None:
    key = VerifierKey.parse(vkey)
    assert str(key) == vkey
    assert key.key_type == KEY_TYPE_ED25519
    assert len(key.key_id) == 4
    assert key.key_id_hex == vkey.split("+")[1]


@pytest.mark.parametrize(
    "vkey",
    [
        # Go's badKey cases: wrong length key (adjusted hash), unknown algorithm (adjusted hash).
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # id mismatch
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case id
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # short id
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # empty name
        "PeterNeumann+c74f20a3",  # missing key
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
        "",
    ],
)
def test_vkey_parse_refuses(vkey: str) -> None:
    with pytest.raises(KeyFormatError):
        VerifierKey.parse(vkey)


def test_name_with_plus_is_refused() -> None:
    with pytest.raises(KeyFormatError):
        VerifierKey("a+b", KEY_TYPE_ED25519, bytes(32))
    with pytest.raises(KeyFormatError):
        SigningKey.generate("a\u3000b")  # ideographic space is a Unicode space


def test_private_line_matches_go() -> None:
    key = SigningKey.from_private_line(PETER_SKEY)
    assert key.name == "PeterNeumann"
    assert key.key_type == KEY_TYPE_ED25519
    assert str(key.verifier()) == PETER_VKEY
    assert key.private_line() == PETER_SKEY


@pytest.mark.parametrize(
    "line",
    [
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF",
        "PUBLIC+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        PETER_VKEY,
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
    ],
)
def test_private_line_refuses(line: str) -> None:
    with pytest.raises(KeyFormatError):
        SigningKey.from_private_line(line)


def test_sign_and_verify() -> None:
    key = SigningKey.generate("example.org/c/demo/alice")
    signature = key.sign(b"hello")
    assert len(signature) == 64
    key.verifier().verify(signature, b"hello")
    with pytest.raises(InvalidSignatureError):
        key.verifier().verify(signature, b"hellO")
    with pytest.raises(InvalidSignatureError):
        key.verifier().verify(signature[:63], b"hello")


def test_cosignature_key_round_trips() -> None:
    key = SigningKey.generate("witness.example/w1", KEY_TYPE_COSIGNATURE)
    again = SigningKey.from_private_line(key.private_line())
    assert str(again.verifier()) == str(key.verifier())
    assert base64.b64decode(str(key.verifier()).split("+", 2)[2])[0] == KEY_TYPE_COSIGNATURE


def test_repr_never_shows_the_seed() -> None:
    key = SigningKey.from_private_line(PETER_SKEY)
    seed_b64 = PETER_SKEY.split("+", 4)[4]
    seed = base64.b64decode(seed_b64)[1:]
    shown = repr(key) + str(key)
    assert "c74f20a3" in shown
    assert seed_b64 not in shown and seed.hex() not in shown and "PRIVATE" not in shown


def test_save_writes_0600_and_load_reads_back(tmp_path: Path) -> None:
    key = SigningKey.generate("log.example/c/demo/log")
    path = tmp_path / "log.key"
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key.private_line() + "\n"
    assert SigningKey.load(path).private_line() == key.private_line()


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text("keep me")
    with pytest.raises(KeyFileExistsError):
        SigningKey.generate("a").save(path)
    assert path.read_text() == "keep me"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_load_refuses_readable_key_files(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "wide.key"
    path.write_text(PETER_SKEY + "\n")
    os.chmod(path, mode)
    with pytest.raises(KeyFilePermissionError) as info:
        SigningKey.load(path)
    for lang in ("en", "zh"):
        assert "chmod 600" in info.value.message(lang)
        assert str(path) in info.value.message(lang)


@pytest.mark.parametrize(
    "content",
    [
        PETER_SKEY + "\n" + PETER_SKEY + "\n",
        PETER_SKEY + "\r\n",
        PETER_SKEY + "\n\n",
        "\n" + PETER_SKEY,
        "",
        PETER_VKEY + "\n",
    ],
)
def test_load_refuses_anything_but_one_line(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFormatError):
        SigningKey.load(path)


def test_load_accepts_a_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text(PETER_SKEY)
    os.chmod(path, 0o600)
    assert SigningKey.load(path).name == "PeterNeumann"


def test_load_key_dir(tmp_path: Path) -> None:
    names = ["b.example/x", "a.example/y"]
    for position, name in enumerate(names):
        SigningKey.generate(name).save(tmp_path / f"key{position}")
    (tmp_path / "sub").mkdir()
    loaded = load_key_dir(tmp_path)
    assert [k.name for k in loaded] == names  # file name order: key0, key1


def test_signing_key_is_not_picklable() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(SigningKey.generate("a"))
