"""TOTP second factor (RFC 6238, 30-second steps, 6 digits), with replay protection."""

from __future__ import annotations

import hmac

import pyotp

STEP_S = 30
ISSUER = "lianfang 联防"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def code_at(secret: str, at_s: float) -> str:
    return pyotp.TOTP(secret).at(int(at_s))


def accepted_step(secret: str, code: str, at_s: float, last_step: int) -> int | None:
    """The time step ``code`` belongs to (now or one step either side), if newer than ``last_step``.

    Returning the step lets the caller store it: a code, once used, is never accepted again.
    """
    code = code.strip()
    if len(code) != 6 or not (code.isascii() and code.isdigit()):  # "²" is a digit too, and compare_digest
        return None  # refuses non-ASCII text with a TypeError
    totp = pyotp.TOTP(secret)
    now_step = int(at_s) // STEP_S
    for step in (now_step, now_step - 1, now_step + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


__all__ = ["STEP_S", "accepted_step", "code_at", "new_secret", "provisioning_uri"]
