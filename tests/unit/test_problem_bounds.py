"""Every problem document is bounded, whatever the request held (edge.problems): a message may
echo what a client sent, so its texts are cut and its list of field issues is capped."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import LambdaContext, load_handler
from tests.events import http_event
from usage_pricing.core.errors import FieldIssue, InvalidRequestError
from usage_pricing.edge.problems import (
    MAX_DETAIL,
    MAX_ISSUE_TEXT,
    MAX_LISTED,
    problem_document,
    problem_for,
)

# Four texts at their bounds, the listed issues at theirs, and the JSON around them.
BOUND = MAX_DETAIL + MAX_LISTED * (2 * MAX_ISSUE_TEXT + 40) + 300


@given(
    detail=st.text(max_size=5_000),
    issues=st.lists(
        st.tuples(st.text(max_size=1_000), st.text(max_size=1_000)), max_size=MAX_LISTED + 50
    ),
)
def test_property_any_error_renders_as_a_bounded_problem(
    detail: str, issues: list[tuple[str, str]]
) -> None:
    error = InvalidRequestError(detail, errors=[FieldIssue(f, m) for f, m in issues])
    document = problem_for(error)
    assert len(json.dumps(document, ensure_ascii=False)) <= BOUND
    assert len(document["detail"]) <= MAX_DETAIL
    listed = document.get("errors", [])
    assert len(listed) == min(len(issues), MAX_LISTED)
    for (field, message), shown in zip(issues, listed, strict=False):
        for sent, written in ((field, shown["field"]), (message, shown["message"])):
            assert len(written) <= MAX_ISSUE_TEXT
            assert written == sent or written == sent[: MAX_ISSUE_TEXT - 1] + "…"


def test_given_a_short_detail_when_rendered_then_it_is_unchanged() -> None:
    assert problem_document(404, "Not Found", "no task t-1") == {
        "type": "urn:usage-pricing:problem:not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "no task t-1",
    }


def test_given_a_10_kb_task_id_when_its_cost_is_asked_then_the_404_echoes_only_its_start() -> None:
    handler = load_handler("task_cost")
    task_id = "x" * 10_000
    event = http_event(
        "GET /usage/tasks/{taskID}/cost",
        f"/usage/tasks/{task_id}/cost",
        path_parameters={"taskID": task_id},
    )
    response = handler.lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 404
    detail = json.loads(response["body"])["detail"]
    assert detail == "no task " + "x" * (MAX_DETAIL - len("no task ") - 1) + "…"
