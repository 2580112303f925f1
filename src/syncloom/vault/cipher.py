"""AES-256-GCM sealing bound to a place: ``version | key id | nonce | ciphertext + tag``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from syncloom.errors import VaultError
from syncloom.vault.keys import KEY_ID_BYTES, Keyring

__all__ = ["Binding", "Vault", "key_id_of"]

FORMAT_VERSION = 1
NONCE_BYTES = 12
_HEADER_BYTES = 1 + KEY_ID_BYTES


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a ciphertext belongs; it opens only with the same binding.

    Example: ``Binding(tenant_id=1, owner_id=7, purpose="credentials")`` for connection 7.
    """

    tenant_id: int | str
    owner_id: int | str
    purpose: str

    def associated_data(self, header: bytes) -> bytes:
        """The authenticated, unencrypted data: the header plus this binding."""
        place = json.dumps([str(self.tenant_id), str(self.owner_id), self.purpose])
        return header + place.encode()

    def __str__(self) -> str:
        return f"{self.purpose} of {self.owner_id} (tenant {self.tenant_id})"


class Vault:
    """Seals and opens secrets with a :class:`Keyring`; thread-safe, holds no other state."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    @property
    def keyring(self) -> Keyring:
        """The keys in use."""
        return self._keyring

    def encrypt(self, plaintext: bytes, binding: Binding) -> bytes:
        """Seal ``plaintext`` under the current key, bound to ``binding``."""
        key = self._keyring.current
        header = bytes([FORMAT_VERSION]) + key.key_id.encode("ascii")
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key.secret).encrypt(nonce, plaintext, binding.associated_data(header))
        return header + nonce + sealed

    def decrypt(self, blob: bytes, binding: Binding) -> bytes:
        """Open a ciphertext sealed for ``binding`` by any key of the keyring.

        Raises:
            VaultError: unknown key, tampered bytes, or a ciphertext from another place.
        """
        key_id = key_id_of(blob)
        key = self._keyring.find(key_id)
        if key is None:
            raise VaultError(
                f"cannot decrypt the {binding}: it was sealed with key {key_id}, which the "
                "master keyring does not hold; restore the key file from backup"
            )
        header, nonce, sealed = _split(blob)
        try:
            return AESGCM(key.secret).decrypt(nonce, sealed, binding.associated_data(header))
        except InvalidTag:
            raise VaultError(
                f"cannot decrypt the {binding}: the ciphertext was altered or belongs elsewhere"
            ) from None

    def encrypt_json(self, value: Any, binding: Binding) -> bytes:
        """Seal a JSON-serialisable value (field-level payload encryption)."""
        return self.encrypt(json.dumps(value, separators=(",", ":")).encode(), binding)

    def decrypt_json(self, blob: bytes, binding: Binding) -> Any:
        """Open a value sealed by :meth:`encrypt_json`.

        Raises:
            VaultError: as :meth:`decrypt`.
        """
        return json.loads(self.decrypt(blob, binding))

    def reseal(self, blob: bytes, binding: Binding) -> bytes:
        """Open with whichever key sealed ``blob`` and seal again under the current key."""
        return self.encrypt(self.decrypt(blob, binding), binding)

    def __repr__(self) -> str:
        return f"Vault({self._keyring!r})"

    __str__ = __repr__


def key_id_of(blob: bytes) -> str:
    """The id of the key that sealed ``blob``.

    Raises:
        VaultError: the bytes are not a syncloom ciphertext.
    """
    if len(blob) < _HEADER_BYTES + NONCE_BYTES + 16 or blob[0] != FORMAT_VERSION:
        raise VaultError("not a syncloom ciphertext (wrong version or too short)")
    try:
        return blob[1:_HEADER_BYTES].decode("ascii")
    except UnicodeDecodeError:
        raise VaultError("not a syncloom ciphertext (bad key id)") from None


def _split(blob: bytes) -> tuple[bytes, bytes, bytes]:
    nonce_end = _HEADER_BYTES + NONCE_BYTES
    return blob[:_HEADER_BYTES], blob[_HEADER_BYTES:nonce_end], blob[nonce_end:]
