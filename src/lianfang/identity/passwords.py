"""Passwords: argon2id hashes (PHC strings) and the password rule.

Parameters are argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4);
:func:`needs_rehash` tells sign-in to upgrade a hash made with older parameters.
"""

from __future__ import annotations

import functools
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()  # argon2id

MIN_LENGTH = 12


class WeakPassword(ValueError):
    """The password does not meet the rule (the message says which part)."""


def check_rule(password: str, username: str = "") -> None:
    """At least 12 characters from at least three of: lower, upper, digits, symbols; not the username."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    classes = sum(
        any(c in group for c in password)
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not c.isalnum() for c in password)
    if classes < 3:
        raise WeakPassword("a password needs three of: lower case, upper case, digits, symbols")
    if username and username.lower() in password.lower():
        raise WeakPassword("a password must not contain the user name")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def generate_password() -> str:
    """A random initial password that meets the rule (shown once; the user must change it)."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        try:
            check_rule(candidate)
            return candidate
        except WeakPassword:
            continue


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password, verified against when the user name is unknown so that
    "no such user" and "wrong password" take the same time.

    Made on first use, not at import: an argon2id hash costs about a tenth of a second,
    which every command-line start paid.
    """
    return hash_password(secrets.token_urlsafe(16))

__all__ = [
    "WeakPassword",
    "check_rule",
    "dummy_hash",
    "generate_password",
    "hash_password",
    "needs_rehash",
    "verify_password",
]
