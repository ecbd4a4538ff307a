"""JSON or CSV answers for the spend routes (docs/api.md).

`format=csv`, or an Accept header that prefers text/csv, answers text/csv: UTF-8, a header row,
one record per line (CRLF, RFC 4180), money as integer microcents plus a USD column that sums
to the same total, and `Content-Disposition: attachment`. Rows are independent and nothing
follows the last one (no totals row), so a client can stream or concatenate them.

A figure outside int64 is null in JSON with an entry in `errors`; CSV has no place for that, so a
CSV answer holding one is a 422 problem naming each such figure instead."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from usage_pricing.core.errors import FieldIssue, UsagePricingError
from usage_pricing.core.limits import FORMAT_CHARACTERS

if TYPE_CHECKING:
    from usage_pricing.core.views import FigureError

CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"


class FigureOutOfRangeError(UsagePricingError):
    status = 422
    title = "Figure out of range"


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def wants_csv(format_param: str | None, accept: str | None) -> bool:
    """CSV when asked by `format`, else when Accept ranks text/csv above JSON (a tie goes to
    whichever the client named first; `*/*` alone means JSON). Media types are case-insensitive."""
    if format_param is not None:
        return format_param == "csv"
    if not accept:
        return False
    best: dict[str, tuple[float, int]] = {}  # kind -> (quality, -position of a specific match)
    for position, (media, quality) in enumerate(_media_ranges(accept)):
        for kind, specific in (
            ("csv", ("text/csv", "text/*")),
            ("json", (JSON_MEDIA_TYPE, "application/*")),
        ):
            if media in specific:
                rank = (quality, -position)
            elif media == "*/*":
                rank = (quality, -10_000)
            else:
                continue
            if rank > best.get(kind, (0.0, -10_001)):
                best[kind] = rank
    csv_rank, json_rank = best.get("csv", (0.0, 0)), best.get("json", (0.0, 0))
    return csv_rank[0] > 0 and csv_rank > json_rank


def json_response(model: BaseModel, headers: Mapping[str, str] | None = None) -> Response[str]:
    body = json.dumps(model.model_dump(mode="json"), separators=(",", ":"))
    return Response(
        status_code=200, content_type=JSON_MEDIA_TYPE, body=body, headers=dict(headers or {})
    )


# Spreadsheet formula injection: a text cell that begins with one of these runs as a formula (or
# a DDE command) when the file is opened in Excel, LibreOffice or Sheets. Such a cell is written
# with a leading apostrophe, which spreadsheets show as text. Numbers are never touched: an int
# cell, and a text cell that is a plain decimal number (a USD figure such as "-0.05"), stay
# numbers. This is the one rule for every CSV the product writes; the dashboard downloads the
# server's CSV rather than writing its own.
# The same triggers after leading blanks or invisible characters count too (an import that trims
# spaces runs " =1+1"), and so do their fullwidth forms; a cell that already starts with the
# apostrophe gets another, so '=1 and =1 never come out alike.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGERS = (*FORMULA_TRIGGERS, "\uff1d", "\uff0b", "\uff0d", "\uff20", "'")
_LEADING = re.compile(f"^[\\s{FORMAT_CHARACTERS}]+")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def csv_cell(value: Any) -> Any:
    """A cell as the CSV writes it: text that a spreadsheet would run is neutralised."""
    if not isinstance(value, str) or _PLAIN_NUMBER.fullmatch(value):
        return value
    if value.startswith(_TRIGGERS) or _LEADING.sub("", value[:64], count=1).startswith(_TRIGGERS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def refuse_overflow_csv(errors: Sequence[FigureError]) -> None:
    """Raise the 422 for a CSV answer with figures outside int64 (errors: FigureError-likes)."""
    if errors:
        raise FigureOutOfRangeError(
            "some figures lie outside int64 and cannot be written as CSV: ask for JSON, narrow "
            "the window or filter the apps",
            errors=[FieldIssue(e.field, e.message) for e in errors],
        )


class CsvExport(NamedTuple):
    """What a CSV answer is: its file name and header row. Each one is defined once, in the
    module whose answer type writes its rows (`csv_rows`), so the header and the rows it names
    change together; the route's OpenAPI responses and the response itself are made from it here.
    `int64_422`: the answer can hold a figure outside int64 (null in JSON with an entry in
    `errors`), which CSV has no place for, so such a CSV answer is a 422 (refuse_overflow_csv)."""

    filename: str
    header: tuple[str, ...]
    int64_422: bool = True

    def responses(self, description: str, model: type[BaseModel]) -> dict[int, Any]:
        """The OpenAPI responses of a route that answers JSON or these rows as text/csv."""
        responses: dict[int, Any] = {
            200: {
                "description": description,
                "content": {
                    JSON_MEDIA_TYPE: {"model": model},
                    CSV_MEDIA_TYPE: {
                        "schema": {"type": "string", "description": ",".join(self.header)}
                    },
                },
            },
        }
        if self.int64_422:
            responses[422] = {
                "description": "CSV asked for, and a figure lies outside int64 (JSON answers it "
                "as null with an entry in errors)",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        return responses

    def response(
        self, rows: Iterable[Sequence[Any]], headers: Mapping[str, str] | None = None
    ) -> Response[str]:
        return Response(
            status_code=200,
            content_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            body=csv_text(self.header, rows),
            headers={
                "Content-Disposition": f'attachment; filename="{self.filename}"',
                **(headers or {}),
            },
        )


class Exportable(Protocol):
    """An answer a spend route gives as JSON (`model`) or as CSV (`export`'s header and
    `csv_rows`), with the figures it could not give (`errors`)."""

    @property
    def model(self) -> BaseModel: ...

    @property
    def export(self) -> CsvExport: ...

    @property
    def errors(self) -> Sequence[FigureError]: ...

    def csv_rows(self) -> Iterable[Sequence[Any]]: ...


def respond(
    answer: Exportable,
    *,
    format_param: str | None,
    accept: str | None,
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    """The answer as the client asked for it (wants_csv): its rows as CSV, or its model as JSON."""
    if wants_csv(format_param, accept):
        if answer.export.int64_422:
            refuse_overflow_csv(answer.errors)
        return answer.export.response(answer.csv_rows(), headers)
    return json_response(answer.model, headers)
