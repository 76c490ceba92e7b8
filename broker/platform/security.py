"""Passwords (argon2), bearer tokens (random, stored as SHA-256), and the data keys that
encrypt identity numbers (Fernet) and key their de-duplication hash (HMAC-SHA256).

``DATA_KEY`` is the current key: every new encryption and hash uses it. During a key
rotation the keys it replaces are listed in ``DATA_KEYS_OLD`` and still decrypt, and an
ID number is looked up under the hash of every valid key (:func:`keyed_hashes`), so the
broker keeps working while ``flask --app app keys rotate`` re-encrypts and rehashes in
batches (:mod:`broker.registry.key_rotation`). The hash key is derived from the data key
and rotates with it, rather than being a separate key that never changes: ID numbers are
few enough to be hashed one by one, so a leaked hash key must be replaceable too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from broker.platform import runtime

_hasher = PasswordHasher()
# A fixed hash to verify against when the user does not exist, so that timing does not
# tell which usernames exist.
_DUMMY = _hasher.hash("not-a-real-password")


def set_password_cost(parameters: Parameters) -> None:
    """Hash new passwords (and the unknown-user dummy) at ``parameters``' cost. The broker
    never calls this and keeps argon2's recommended cost; the test suite, which creates and
    signs in thousands of users, lowers it (a hash states its own cost, so verifying works
    whatever the cost it was made with)."""
    global _hasher, _DUMMY
    _hasher = PasswordHasher.from_parameters(parameters)
    _DUMMY = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """Return (token to give out, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _data_key() -> bytes:
    return runtime.settings()["DATA_KEY"].encode()


def old_data_keys() -> list[bytes]:
    """The keys being rotated out (``DATA_KEYS_OLD``: comma-separated, or a list)."""
    value = runtime.settings().get("DATA_KEYS_OLD") or []
    if isinstance(value, str):
        value = value.split(",")
    return [k.strip().encode() for k in value if k and k.strip()]


def data_keys() -> tuple[bytes, ...]:
    """Every valid data key, the current one first."""
    return (_data_key(), *old_data_keys())


def _fernet() -> MultiFernet:
    return _fernet_for(data_keys())


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[bytes, ...]) -> MultiFernet:
    """Made once per set of keys: a survey import encrypts thousands of numbers."""
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str, keys: tuple[bytes, ...] | None = None) -> bytes:
    """Encrypted under the current key (the first of ``keys``, when given: a process
    without the broker's settings, such as the survey import's reader, is handed them)."""
    return _fernet_for(keys or data_keys()).encrypt(value.encode())


def decrypt(blob: bytes) -> str:
    """Decrypted under the current key or any key being rotated out."""
    return _fernet().decrypt(blob).decode()


def under_current_key(blob: bytes) -> bool:
    """True when ``blob`` was encrypted under the current key (needs no rotation)."""
    try:
        _fernet_for((_data_key(),)).decrypt(blob)
    except InvalidToken:
        return False
    return True


def _hash_under(key: bytes, value: str) -> str:
    return hmac.new(_hash_key(key), value.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _hash_key(key: bytes) -> bytes:
    return hmac.new(base64.urlsafe_b64decode(key), b"aidbroker-id-hash", hashlib.sha256).digest()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 under a key derived from the current data key: equal inputs match, and
    the hash cannot be reversed by hashing every possible ID number without the key."""
    return _hash_under(_data_key(), value)


def keyed_hashes(value: str, keys: tuple[bytes, ...] | None = None) -> list[str]:
    """The hash of ``value`` under every valid key (or each of ``keys``), the current one
    first: what to look an ID number up by while a rotation is under way."""
    return [_hash_under(k, value) for k in keys or data_keys()]
