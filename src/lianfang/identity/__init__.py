"""Identities: the user directory, sign-in with password + TOTP, sessions, API tokens."""

from __future__ import annotations

from lianfang.identity.auth import Authenticator, AuthPolicy, Session, SignInFailed
from lianfang.identity.directory import Credentials, Directory, DirectoryError, User
from lianfang.identity.tokens import SCOPES, ApiToken, Tokens

__all__ = [
    "SCOPES",
    "ApiToken",
    "AuthPolicy",
    "Authenticator",
    "Credentials",
    "Directory",
    "DirectoryError",
    "Session",
    "SignInFailed",
    "Tokens",
    "User",
]
