"""Every identifier pattern of the layer matches the whole value. With `re.match` (or `search`),
"$" also matches just before a trailing newline, so "team_a\\n" would pass a check written as
"^…$" and then reach a key, a path or a log line; each check here is held to accept exactly the
values its pattern describes and to refuse the same value with a newline (or any control
character) around it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from usage_pricing.core.errors import InvalidRequestError
from usage_pricing.edge.keys import KEY_PATTERN
from usage_pricing.pricing.store import app_path
from usage_pricing.spend.params import AppName
from usage_pricing.usage.events import AppPath, Identifier

PART = r"[a-z0-9][a-z0-9_.-]{0,127}"


def _accepts_app_part(position: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        parts = [value, "x"] if position == 0 else ["x", value]
        try:
            app_path(*parts)
        except InvalidRequestError:
            return False
        return True

    return check


def _accepts_model(adapter: TypeAdapter[str]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    return check


# name → (what a valid value looks like, the layer's own check)
CHECKS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "pricing route namespace": (PART, _accepts_app_part(0)),
    "pricing route name": (PART, _accepts_app_part(1)),
    "API key": (r"inf_[A-Za-z0-9_-]{8,128}", lambda v: KEY_PATTERN.fullmatch(v) is not None),
    "event task or team id": (r"[A-Za-z0-9_.:@-]{1,128}", _accepts_model(TypeAdapter(Identifier))),
    "event app": (rf"{PART}/{PART}", _accepts_model(TypeAdapter(AppPath))),
    "spend query app": (rf"{PART}/{PART}", _accepts_model(TypeAdapter(AppName))),
}
VALID = {
    "pricing route namespace": "team_a",
    "pricing route name": "flux-dev.v2",
    "API key": "inf_local_dev",
    "event task or team id": "t-1:a@b",
    "event app": "team_a/flux",
    "spend query app": "team_a/flux",
}


@pytest.mark.parametrize("name", list(CHECKS))
@pytest.mark.parametrize(
    "dressed",
    [
        lambda v: v + "\n",
        lambda v: v + "\r\n",
        lambda v: "\n" + v,
        lambda v: v + "\x00",
        lambda v: v + " ",
    ],
    ids=["trailing newline", "trailing CRLF", "leading newline", "trailing NUL", "trailing space"],
)
def test_given_a_valid_value_with_a_newline_or_control_character_around_it_when_checked_then_refused(
    name: str, dressed: Callable[[str], str]
) -> None:
    _, accepts = CHECKS[name]
    assert accepts(VALID[name])
    assert not accepts(dressed(VALID[name]))


@pytest.mark.parametrize("name", list(CHECKS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_given_any_value_the_pattern_describes_when_a_newline_follows_then_only_the_bare_value_passes(
    name: str, data: st.DataObject
) -> None:
    pattern, accepts = CHECKS[name]
    value = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda v: "\n" not in v))
    assert accepts(value)
    assert not accepts(value + "\n")


def test_given_a_trailing_newline_in_an_app_path_then_the_400_names_the_field() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        app_path("team_a", "flux\n")
    assert raised.value.detail == "invalid app name 'flux\\n'"
    assert [issue.field for issue in raised.value.errors] == ["name"]
