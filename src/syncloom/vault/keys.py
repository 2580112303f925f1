"""Master keys, keyrings and the key file (0600, written atomically, current key first)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from syncloom.errors import ConfigError

__all__ = ["KEY_BYTES", "Keyring", "MasterKey", "read_keyring_file", "write_keyring_file"]

KEY_BYTES = 32
KEY_ID_BYTES = 8
_KEY_FILE_HEADER = (
    "# syncloom master keyring. Back this file up: without it no stored credential can be\n"
    "# decrypted. First key: current. Later keys: retired, kept to open older ciphertexts.\n"
)


@dataclass(frozen=True, slots=True)
class MasterKey:
    """A 256-bit AES key and its public id (a fingerprint; it reveals nothing of the key)."""

    key_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> MasterKey:
        """A new random key."""
        return cls.from_bytes(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_bytes(cls, secret: bytes) -> MasterKey:
        """Wrap raw key bytes.

        Raises:
            ConfigError: the key is not 32 bytes long.
        """
        if len(secret) != KEY_BYTES:
            raise ConfigError(f"a master key must be {KEY_BYTES} bytes, not {len(secret)}")
        fingerprint = hashlib.sha256(b"syncloom master key id\0" + secret).hexdigest()
        return cls(key_id=fingerprint[:KEY_ID_BYTES], secret=secret)

    @classmethod
    def from_base64(cls, text: str) -> MasterKey:
        """Parse the base64 form of a key.

        Raises:
            ConfigError: not base64 of 32 bytes (the message never repeats the text).
        """
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("a master key must be base64 of 32 random bytes") from None
        return cls.from_bytes(raw)

    def to_base64(self) -> str:
        """The base64 form, for the key file."""
        return base64.b64encode(self.secret).decode()

    def __str__(self) -> str:
        return f"MasterKey({self.key_id})"


@dataclass(frozen=True, slots=True)
class Keyring:
    """The current key, which seals, and retired keys, which only open older ciphertexts."""

    current: MasterKey
    retired: tuple[MasterKey, ...] = ()

    @property
    def key_ids(self) -> frozenset[str]:
        """The ids of every key held."""
        return frozenset(key.key_id for key in (self.current, *self.retired))

    def find(self, key_id: str) -> MasterKey | None:
        """The key with this id, or ``None``."""
        return next((k for k in (self.current, *self.retired) if k.key_id == key_id), None)

    def rotated(self, new: MasterKey) -> Keyring:
        """A keyring whose current key is ``new`` and which keeps every key held so far."""
        kept = tuple(k for k in (self.current, *self.retired) if k.key_id != new.key_id)
        return Keyring(current=new, retired=kept)

    def without_retired(self) -> Keyring:
        """Only the current key (once nothing is sealed under the others any more)."""
        return Keyring(current=self.current)

    @classmethod
    def parse(cls, text: str, *, source: str) -> Keyring:
        """Parse base64 keys, one per line or comma-separated, ``#`` starting a comment.

        Raises:
            ConfigError: no key, or an entry that is not a key; names ``source`` and the entry.
        """
        entries = [
            part.strip()
            for line in text.splitlines()
            for part in line.split("#", 1)[0].split(",")
            if part.strip()
        ]
        if not entries:
            raise ConfigError(f"{source} holds no master key")
        keys = []
        for number, entry in enumerate(entries, start=1):
            try:
                keys.append(MasterKey.from_base64(entry))
            except ConfigError as exc:
                raise ConfigError(f"{source}: key {number}: {exc.message}") from None
        return cls(current=keys[0], retired=tuple(keys[1:]))

    def dump(self) -> str:
        """The key file text: a warning, then the current key, then retired ones."""
        lines = [f"{key.to_base64()}  # {key.key_id}" for key in (self.current, *self.retired)]
        return _KEY_FILE_HEADER + "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        retired = ", ".join(k.key_id for k in self.retired)
        return f"Keyring(current={self.current.key_id}, retired=[{retired}])"

    __str__ = __repr__


def read_keyring_file(path: Path) -> Keyring:
    """Read a keyring from its file.

    Raises:
        ConfigError: the file is missing, unreadable or corrupt.
    """
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(f"the master key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a text file"
        raise ConfigError(f"cannot read the master key file {path}: {reason}") from None
    return Keyring.parse(text, source=f"the master key file {path}")


def write_keyring_file(path: Path, keyring: Keyring) -> None:
    """Write a keyring atomically, readable by its owner only (0600).

    The file is replaced in one rename, so a crash leaves either the old or the new keyring,
    never half of one.

    Raises:
        ConfigError: the file cannot be written.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(keyring.dump())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the master key file {path}: {exc.strerror}") from None
