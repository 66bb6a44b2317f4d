"""The key file kept outside the database and the values sealed with it (AES-256-GCM)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kilnwatch.errors import SecretKeyError
from kilnwatch.keyfile import (
    KeyFile,
    create_key_file,
    is_sealed,
    new_key,
    read_key_file,
    sealed_key_id,
    write_key_file,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_sealed_value_opens_only_for_its_row_and_key(tmp_path: Path) -> None:
    ring = create_key_file(tmp_path / "k" / "totp.key")
    assert (tmp_path / "k" / "totp.key").stat().st_mode & 0o777 == 0o600
    sealed = ring.seal(SECRET, "user_totp:7")
    assert is_sealed(sealed) and SECRET not in sealed and sealed_key_id(sealed) == ring.current_id
    assert len(sealed) <= 255  # the column (migration 0058)
    assert sealed != ring.seal(SECRET, "user_totp:7")  # a fresh nonce each time
    assert ring.open(sealed, "user_totp:7") == SECRET
    with pytest.raises(SecretKeyError) as moved:  # copied onto another user's row
        ring.open(sealed, "user_totp:8")
    assert moved.value.code == "secrets.undecryptable"
    prefix, kid, body = sealed.split("$")
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(SecretKeyError) as edited:
        ring.open(f"{prefix}${kid}${flipped}", "user_totp:7")
    assert edited.value.code == "secrets.undecryptable"


def test_another_key_file_is_named_wrong(tmp_path: Path) -> None:
    sealed = create_key_file(tmp_path / "a.key").seal(SECRET, "user_totp:1")
    other = create_key_file(tmp_path / "b.key")
    with pytest.raises(SecretKeyError) as wrong:
        other.open(sealed, "user_totp:1")
    assert wrong.value.code == "secrets.key_wrong"
    assert sealed_key_id(sealed) in wrong.value.message and "b.key" in wrong.value.message
    # the same key id with other key bytes (the file edited): does not decrypt
    forged = write_key_file(tmp_path / "c.key", ((sealed_key_id(sealed), new_key()[1]),))
    with pytest.raises(SecretKeyError) as altered:
        forged.open(sealed, "user_totp:1")
    assert altered.value.code == "secrets.undecryptable"


def test_missing_unreadable_and_malformed_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "totp.key"
    with pytest.raises(SecretKeyError) as missing:
        read_key_file(path)
    assert missing.value.code == "secrets.key_missing"
    assert str(path) in missing.value.message and "KILNWATCH_TOTP_KEY_FILE" in missing.value.message
    create_key_file(path)
    with pytest.raises(SecretKeyError) as exists:
        create_key_file(path)  # never overwrites the only copy of a key
    assert exists.value.code == "secrets.key_invalid"
    os.chmod(path, 0o644)
    with pytest.raises(SecretKeyError) as open_to_all:
        read_key_file(path)
    assert "chmod 600" in open_to_all.value.message
    os.chmod(path, 0o600)
    with path.open("a") as f:
        f.write("k2 not-base64-of-32-bytes\n")
    with pytest.raises(SecretKeyError) as bad:
        read_key_file(path)
    assert bad.value.code == "secrets.key_invalid" and "line 5" in bad.value.message


def test_a_rotation_by_another_process_is_seen_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "totp.key"
    first = create_key_file(path)
    keys = KeyFile(path)
    assert keys.ring().current_id == first.current_id
    second = write_key_file(path, (new_key(), *first.keys))
    assert keys.ring().current_id == second.current_id
    assert keys.ring().ids == (second.current_id, first.current_id)
