"""The key kept outside the database, and the secrets stored sealed with it (docs/security.md
"Second factor").

A TOTP secret must be readable by the server (it computes the codes from it), so it cannot be
hashed like a password; it is encrypted instead, with a key that lives in a file named by
``Settings.totp_key_file`` (``KILNWATCH_TOTP_KEY_FILE``, default ``var_dir/totp.key``) and
never in the database: a copy of the database or of its backups alone does not reveal the
secrets.

Cipher: AES-256-GCM (NIST SP 800-38D) from ``cryptography``, a fresh 96-bit random nonce per
value (§8.2.2), the 128-bit tag, and associated data naming the row the value belongs to
(``user_totp:<user id>``), so that a sealed value copied onto another user's row does not open.
A sealed value reads ``kw1$<key id>$<base64url(nonce ‖ ciphertext ‖ tag)>``.

The key file holds one key per line, ``<key id> <base64url of 32 bytes>`` (``#`` starts a
comment): the first key seals, every key opens, so a rotation can add a new key in front,
re-seal every value and then drop the old one. It is written with mode 0600 and refused when
others may read it. Processes re-read it when it changes (its size, mtime or inode), so a
rotation needs no restart.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kilnwatch.errors import SecretKeyError

PREFIX = "kw1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # SP 800-38D §8.2.2, the recommended IV length
SETTING = "KILNWATCH_TOTP_KEY_FILE"
_HEADER = (
    "# kilnwatch TOTP key file (docs/security.md): '<key id> <base64url key>' per line;\n"
    "# the first key encrypts, every key decrypts. Keep it outside the database and its\n"
    "# backups, readable only by the kilnwatch service user.\n"
)


def is_sealed(value: str) -> bool:
    """Whether a stored value is sealed (else it is a plaintext value of an older version)."""
    return value.startswith(PREFIX + "$")


def sealed_key_id(value: str) -> str:
    """The id of the key a sealed value was sealed with."""
    return value.split("$", 2)[1]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class KeyRing:
    """The keys of a key file: ``keys[0]`` seals, each opens the values sealed with it."""

    path: Path
    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(kid for kid, _ in self.keys)

    def seal(self, plaintext: str, context: str) -> str:
        """``plaintext`` encrypted under the current key, bound to ``context`` (the row)."""
        kid, key = self.keys[0]
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}${kid}${_b64(nonce + sealed)}"

    def open(self, value: str, context: str) -> str:
        """The plaintext of a sealed ``value`` of row ``context``.

        Raises
        ------
        SecretKeyError
            ``secrets.key_wrong`` when the file does not hold the value's key,
            ``secrets.undecryptable`` when the value does not decrypt under it.
        """
        try:
            prefix, kid, body = value.split("$", 2)
        except ValueError:
            prefix, kid, body = "", "", ""
        if prefix != PREFIX:
            raise SecretKeyError(f"the stored value of {context} is not sealed",
                                 code="secrets.undecryptable")  # fmt: skip
        key = dict(self.keys).get(kid)
        if key is None:
            raise SecretKeyError(
                f"the secret of {context} is sealed with key {kid!r}, which the key file "
                f"{self.path} ({SETTING}) does not hold (it holds {', '.join(self.ids)}): "
                "the wrong file, or a key dropped before every value was re-sealed",
                code="secrets.key_wrong",
            )
        try:
            raw = _unb64(body)
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError, binascii.Error):
            raise SecretKeyError(
                f"the secret of {context} does not decrypt with key {kid!r} of {self.path}: "
                "the key in the file or the stored value was altered",
                code="secrets.undecryptable",
            ) from None
        return plain.decode()


def new_key() -> tuple[str, bytes]:
    """A random key id (32 bits, to tell keys apart) and a random 256-bit key."""
    return secrets.token_hex(4), secrets.token_bytes(KEY_BYTES)


def write_key_file(path: Path, keys: tuple[tuple[str, bytes], ...]) -> KeyRing:
    """Write ``keys`` (the first seals) atomically with mode 0600; the folder is created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    text = _HEADER + "".join(f"{kid} {_b64(key)}\n" for kid, key in keys)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return KeyRing(path, keys)


def create_key_file(path: Path) -> KeyRing:
    """A new key file with one new key; refused when ``path`` exists (it may hold the only
    copy of the key every stored secret needs)."""
    if path.exists():
        raise SecretKeyError(
            f"key file {path} exists already; rotate it instead (kilnwatch user totp-key rotate)",
            code="secrets.key_invalid",
        )
    return write_key_file(path, (new_key(),))


def read_key_file(path: Path) -> KeyRing:
    """The keys of ``path``.

    Raises
    ------
    SecretKeyError
        ``secrets.key_missing`` when there is no file, ``secrets.key_invalid`` when others
        may read it or a line is not ``<key id> <base64url of 32 bytes>``.
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise SecretKeyError(
            f"TOTP key file {path} ({SETTING}) not found: restore it from where it is kept, "
            "or create one with 'kilnwatch user totp-key create' (secrets sealed with a lost "
            "key cannot be opened: those users need 'kilnwatch user totp-reset')",
            code="secrets.key_missing",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"TOTP key file {path}: {exc}", code="secrets.key_invalid") from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise SecretKeyError(
            f"TOTP key file {path} may be read or written by anybody (mode {mode & 0o777:o}); "
            f"make it readable by the service user only: chmod 600 {path}",
            code="secrets.key_invalid",
        )
    keys: list[tuple[str, bytes]] = []
    for row, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        key = b""
        if len(parts) == 2:
            try:
                key = _unb64(parts[1])
            except (ValueError, binascii.Error):
                key = b""
        if len(key) != KEY_BYTES or "$" in parts[0]:
            raise SecretKeyError(
                f"TOTP key file {path}, line {row}: expected '<key id> <base64url of "
                f"{KEY_BYTES} bytes>'",
                code="secrets.key_invalid",
            )
        keys.append((parts[0], key))
    if not keys:
        raise SecretKeyError(f"TOTP key file {path} holds no key", code="secrets.key_invalid")
    return KeyRing(path, tuple(keys))


class KeyFile:
    """A key file read when first needed and again whenever it changed on disk (a rotation by
    another process), so that a server that never handles a second factor never needs it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._stamp: tuple[int, int, int] | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def ring(self) -> KeyRing:
        """The keys as the file holds them now (:func:`read_key_file`'s errors)."""
        try:
            st = self.path.stat()
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if self._ring is None or stamp is None or stamp != self._stamp:
                self._ring = read_key_file(self.path)
                self._stamp = stamp
            return self._ring


@cache
def key_file(path: Path) -> KeyFile:
    """The one :class:`KeyFile` of ``path`` in this process (read once, re-read on change)."""
    return KeyFile(path)
