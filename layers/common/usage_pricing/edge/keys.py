"""API keys: "inf_" + 43 url-safe characters of randomness. Only a SHA-256 of a key is stored;
an unsalted hash suffices for 256-bit random secrets and lets the authorizer look keys up."""

from __future__ import annotations

import hashlib
import re
import secrets

KEY_PREFIX = "inf_"
# Used with fullmatch: with match (or search), "$" also matches before a trailing newline.
KEY_PATTERN = re.compile(r"inf_[A-Za-z0-9_-]{8,128}")


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an "Authorization: Bearer <token>" header, or None if absent or not Bearer."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
