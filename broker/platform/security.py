"""Passwords (argon2), bearer tokens (random, stored as SHA-256), and the data key that
encrypts identity numbers (Fernet) and keys their de-duplication hash (HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet

from broker.platform import runtime

_hasher = PasswordHasher()
# A fixed hash to verify against when the user does not exist, so that timing does not
# tell which usernames exist.
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


def encrypt(value: str) -> bytes:
    return Fernet(_data_key()).encrypt(value.encode())


def decrypt(blob: bytes) -> str:
    return Fernet(_data_key()).decrypt(blob).decode()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 under a key derived from the data key: equal inputs match, and the
    hash cannot be reversed by hashing every possible ID number without the key."""
    key = hmac.new(base64.urlsafe_b64decode(_data_key()), b"aidbroker-id-hash", hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
