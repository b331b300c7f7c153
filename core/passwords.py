"""Password hashing (Argon2id) and policy (length, not common, not built from the user's own context)."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.i18n import _l

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters

MIN_LENGTH = 12
MAX_LENGTH = 128

# The most common breached passwords long enough to pass the length rule (from public breach top lists).
COMMON = {
    "123456789012", "1234567890123", "12345678901234", "password1234", "password12345", "qwertyuiop12",
    "qwertyuiopasdf", "1q2w3e4r5t6y", "1qaz2wsx3edc", "qazwsxedcrfv", "iloveyou1234", "administrator",
    "passwordpassword", "abc123456789", "aaaaaaaaaaaa", "111111111111", "000000000000", "asdfghjkl123",
    "zxcvbnm12345", "woaini1314520", "woaini123456", "1234qwerasdf", "qwer1234asdf", "a123456789012",
    "p@ssw0rd1234", "letmein12345", "welcome12345", "changeme1234", "football1234", "baseball1234",
    "sunshine1234", "princess1234", "superman1234", "trustno11234", "monkey123456", "dragon123456",
    "master123456", "admin1234567", "admin@123456", "test12345678", "qwerty123456", "passw0rd1234",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


_DUMMY_HASH = None


def burn_time(password: str):
    """Spend the same time as a real verification (unknown accounts answer like known ones)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-password-placeholder")
    verify_password(_DUMMY_HASH, password)


def policy_errors(password: str, context=()) -> list:
    """Reasons ``password`` is refused (empty list = accepted). No composition rules, on purpose."""
    errors = []
    if len(password) < MIN_LENGTH:
        errors.append(_l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        errors.append(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) <= 2:
        errors.append(_l("This password is too common."))
    for word in context:
        for part in re.split(r"[@.\s_\-]+", (word or "").lower()):
            if len(part) >= 4 and part in lowered:
                errors.append(_l("Do not build the password from your name, login, e-mail or the company name."))
                return errors
    return errors
