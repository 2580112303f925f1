"""Vault: credentials encrypted at rest with AES-256-GCM under a master key.

How can a stolen database, or a row copied to another, give nothing away? Every secret is sealed
with AES-256-GCM under the master key, with a fresh 96-bit nonce, and with associated data that
binds it to its place: (tenant id, owner id, purpose). A ciphertext moved to another row, or
altered by one byte, fails to open with :class:`~syncloom.errors.VaultError`.

A ciphertext starts with a header naming the key that sealed it::

    version (1 byte) | key id (8 ASCII bytes) | nonce (12 bytes) | ciphertext + tag

so a :class:`Keyring` (the current key plus retired ones) opens old ciphertexts after a rotation,
and :func:`rotate_credentials` re-seals every stored credential under the current key. The master
key never enters the database, a log line, an exception message or a ``repr``.
"""

from __future__ import annotations

from syncloom.vault.cipher import Binding, Vault, key_id_of
from syncloom.vault.credentials import (
    CREDENTIALS,
    RotationReport,
    check_keyring,
    credentials_binding,
    load_keyring,
    open_credentials,
    open_vault,
    rotate_credentials,
    rotate_master_key,
    seal_credentials,
    stored_key_ids,
)
from syncloom.vault.keys import Keyring, MasterKey, read_keyring_file, write_keyring_file

__all__ = [
    "CREDENTIALS",
    "Binding",
    "Keyring",
    "MasterKey",
    "RotationReport",
    "Vault",
    "check_keyring",
    "credentials_binding",
    "key_id_of",
    "load_keyring",
    "open_credentials",
    "open_vault",
    "read_keyring_file",
    "rotate_credentials",
    "rotate_master_key",
    "seal_credentials",
    "stored_key_ids",
    "write_keyring_file",
]
