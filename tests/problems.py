"""The one check of an RFC 9457 problem answer, for the in-process and the over-HTTP tests alike.

A problem is: the expected status; `Content-Type: application/problem+json`; a JSON object with
the four members type, title, status (equal to the HTTP status) and detail; and, for a
validation failure, `errors` as a list of {field, message} naming each field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

PROBLEM = "application/problem+json"


class _Response(Protocol):
    """What the check reads of a requests.Response."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


Answer = _Response | tuple[int, Mapping[str, str], Any]


def assert_problem(
    answer: Answer,
    status: int,
    *,
    detail: str | None = None,
    fields: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Assert `answer` is a problem with `status` and return its document.

    `answer` is a requests.Response or an in-process (status, headers, body) triple, the body
    parsed or still JSON text. `detail`, when given, must be the detail exactly; `fields`, when
    given, must be exactly the field names of `errors`, in order."""
    if isinstance(answer, tuple):
        got, headers, body = answer
        problem = json.loads(body) if isinstance(body, str | bytes) else body
        shown = str(problem)[:500]
    else:
        got, headers, shown = answer.status_code, answer.headers, answer.text[:500]
        problem = answer.json()
    assert got == status, shown
    content_type = headers.get("Content-Type")  # requests' headers ignore case; a handler's don't
    assert content_type == PROBLEM, (content_type, shown)
    assert isinstance(problem, dict), shown
    assert {"type", "title", "status", "detail"} <= set(problem), shown
    assert problem["status"] == status, shown
    if detail is not None:
        assert problem["detail"] == detail
    if fields is not None:
        assert [e["field"] for e in problem.get("errors", [])] == list(fields), shown
    return problem
