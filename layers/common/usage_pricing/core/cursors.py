"""Opaque continuation cursors (the task list's `next_cursor`, the backtest's), signed with a
per-deployment secret (docs/api.md).

A cursor is `base64url(JSON position) "." base64url(MAC)`. The MAC is a keyed BLAKE2b over the
cursor's purpose, the caller's team and what binds it to its query (the query's parameters), and
the position. Its key is derived from CURSOR_SECRET, which is not in the source: template.yaml
generates it per deployment (the CursorSecret resource, AWS Secrets Manager) and resolves it into
the environment of the two functions that issue cursors when the stack deploys, so a cold start
reads it from the environment and makes no network call; the local stack and the tests generate
one at start (local/template.py). Anyone who has read the source can therefore mint no cursor,
and a cursor of another deployment is refused.

Fail closed: without a secret (or with one shorter than MIN_SECRET_CHARS) no cursor is issued or
accepted, and the routes that page answer 503 (errors.ConfigurationError), never a default key.

The MAC is an integrity check: a cursor authorizes nothing (a route always reads the caller's own
team), it only keeps a client from steering a route to a position its query never produced. A
route still checks a decoded position against its own query's window (tasks, backtest)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from usage_pricing.core.errors import ConfigurationError, FieldIssue, InvalidRequestError
from usage_pricing.core.utc import sortable

if TYPE_CHECKING:
    from usage_pricing.core.windows import Span

SECRET_VARIABLE = "CURSOR_SECRET"
MIN_SECRET_CHARS = 32
CURSOR_VERSION = 2  # 1 was the task list's, signed with a constant key: such a cursor is a 400
# A window that ends "now" was fixed by the first page; a later page may run on another instance
# whose clock is a little behind.
CLOCK_SKEW = timedelta(minutes=5)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def bad_cursor(field: str = "cursor", returned: str = "next_cursor") -> InvalidRequestError:
    message = (
        f"is not a {field} of this query and team: pass {returned} back unchanged, with the "
        "same query"
    )
    return InvalidRequestError(f"{field} {message}", errors=[FieldIssue(field, message)])


def cursor_outside(why: str) -> InvalidRequestError:
    message = f"does not decode to a position inside its query's window ({why})"
    return InvalidRequestError(f"cursor {message}", errors=[FieldIssue("cursor", message)])


def _parse_key(key: object) -> datetime | None:
    """A window bound as storage.ledger.sortable writes it, back to a moment; None if it is not
    one."""
    if not isinstance(key, str):
        return None
    try:
        moment = datetime.strptime(key, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment if sortable(moment) == key else None


def check_window(low: object, high: object, span: Span, now: datetime) -> tuple[datetime, datetime]:
    """The window [low, high) a cursor holds (sortable bounds), if it is its own query's `span`,
    else a 400 naming `cursor`.

    The window was fixed by the query's first page: an explicit start or end is the query's
    own; a range (or a start without an end) ends at the first page's "now", which is not after
    this request's (give or take CLOCK_SKEW); a range spans exactly its duration. An empty or
    inverted window never reaches DynamoDB (inverted key bounds are a ValidationException there)."""
    first, last = _parse_key(low), _parse_key(high)
    if first is None or last is None or first >= last:
        raise cursor_outside("its window is empty or runs backwards")
    if span.duration is None and first != span.start:
        raise cursor_outside("its window does not start at the query's start")
    if span.end_given and last != span.end:
        raise cursor_outside("its window does not end at the query's end")
    if not span.end_given and last > now + CLOCK_SKEW:
        raise cursor_outside("its window ends in the future")
    if span.duration is not None and last - first != span.duration:
        raise cursor_outside("its window is not the query's range")
    return first, last


class CursorSigner:
    """Seals and opens cursors with the deployment's key. A plain slotted class: the key never
    appears in a repr or a log."""

    __slots__ = ("_key",)

    def __init__(self, secret: str | None) -> None:
        self._key: bytes | None = None
        if secret is not None and len(secret) >= MIN_SECRET_CHARS:
            # BLAKE2b takes a key of at most 64 bytes: a digest of the secret, whatever its size.
            self._key = hashlib.blake2b(
                secret.encode(), digest_size=32, person=b"usage-cursors"
            ).digest()

    def __repr__(self) -> str:
        return f"CursorSigner(configured={self._key is not None})"

    def require(self) -> None:
        """Fail closed: a route that pages refuses to run without the deployment's secret."""
        if self._key is None:
            raise ConfigurationError(
                f"cursors cannot be signed: this deployment has no {SECRET_VARIABLE} "
                f"(at least {MIN_SECRET_CHARS} characters, template.yaml's CursorSecret)"
            )

    def _mac(self, purpose: str, binding: Sequence[bytes], payload: bytes) -> bytes:
        self.require()
        assert self._key is not None
        mac = hashlib.blake2b(key=self._key, digest_size=16)
        for part in (purpose.encode(), *binding, payload):
            mac.update(len(part).to_bytes(4, "big") + part)
        return mac.digest()

    def seal(self, purpose: str, binding: Sequence[bytes], position: Mapping[str, Any]) -> str:
        payload = json.dumps(
            {"v": CURSOR_VERSION, **position}, separators=(",", ":"), sort_keys=True
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(purpose, binding, payload))}"

    def open(
        self,
        purpose: str,
        binding: Sequence[bytes],
        cursor: str,
        *,
        field: str = "cursor",
        returned: str = "next_cursor",
    ) -> dict[str, Any]:
        """The position a cursor holds, or a 400 naming `field` (the query parameter that
        carried it; `returned` is the answer's field it came from) if this deployment did not
        issue it for this purpose, team and query."""
        self.require()
        try:
            encoded, _, digest = cursor.partition(".")
            payload, claimed = _unb64(encoded), _unb64(digest)
        except (binascii.Error, ValueError):
            raise bad_cursor(field, returned) from None
        import hmac  # noqa: PLC0415 — only a request with a cursor needs it

        if not hmac.compare_digest(claimed, self._mac(purpose, binding, payload)):
            raise bad_cursor(field, returned)
        try:
            content = json.loads(payload)
        except ValueError:
            raise bad_cursor(field, returned) from None
        if not isinstance(content, dict) or content.get("v") != CURSOR_VERSION:
            raise bad_cursor(field, returned)
        return content


__all__ = [
    "CURSOR_VERSION",
    "MIN_SECRET_CHARS",
    "SECRET_VARIABLE",
    "CursorSigner",
    "bad_cursor",
    "check_window",
    "cursor_outside",
]
