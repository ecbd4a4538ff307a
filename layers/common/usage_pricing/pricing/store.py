"""The app pricing store (docs/api.md): read live and draft, edit the draft by merge-patch, publish.

A team owns the namespace named by its team id: only it edits and publishes there, and only it
sees the unpublished draft. Store listings are public, so any key with apps:read may read an
app's live pricing; an app with nothing live is 404 to everyone but its owner (data without a
proven owner is no data to anyone else)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from usage_pricing.core.errors import (
    FieldIssue,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    join_issues,
)
from usage_pricing.core.factories import empty_list
from usage_pricing.core.fees import COMPONENTS, declare_fields
from usage_pricing.core.limits import (
    APP_PART,
    CLOCK_SKEW,
    MAX_FORMULA_BYTES,
    MAX_SCHEDULED_VERSIONS,
)
from usage_pricing.core.scopes import Caller
from usage_pricing.core.utc import LATEST, parse_rfc3339, sortable
from usage_pricing.core.views import FieldMessage
from usage_pricing.pricing.cel import CelEngine
from usage_pricing.pricing.evaluator import PricingEvaluator
from usage_pricing.pricing.model import (
    AppPricing,
    Formula,
    Microcents,
    description_source,
    description_warnings,
    validate_pricing,
)
from usage_pricing.pricing.preview import PricingPreview, Quote, QuoteRequest
from usage_pricing.pricing.repository import PricingRecordVersion, PricingRepository

# Matched whole (fullmatch): with re.match, "$" also matches before a trailing newline.
_APP_PART = re.compile(APP_PART)  # limits.APP_PART


class PricingPatch(BaseModel):
    """Merge-patch of the draft: absent fields stay; prices merge key by key, 0 removes a key."""

    model_config = ConfigDict(extra="forbid")

    prices: dict[str, Microcents] | None = None
    upstream_pricing: Annotated[str, Field(max_length=MAX_FORMULA_BYTES)] | None = None
    # resource_expression … total_expression (fees.COMPONENTS).
    declare_fields(
        vars(), Formula | None, None, components=COMPONENTS, attribute=lambda c: c.expression
    )
    description: Formula | None = None


class LivePricing(BaseModel):
    version: int
    published_at: str
    effective_at: str = Field(
        description="When it took (or takes) effect: its publication, or the effective_at it "
        "was published with."
    )
    pricing: AppPricing

    @classmethod
    def of(cls, version: PricingRecordVersion) -> LivePricing:
        return cls(
            version=version.version,
            published_at=version.published_at,
            effective_at=version.effective_at,
            pricing=version.pricing,
        )


# Version keys hold four-digit years: nothing takes effect at or after utc.LATEST.
LATEST_EFFECTIVE = LATEST
# A quote's `at` lies in [EARLIEST_QUOTE, LATEST_EFFECTIVE): version keys hold 4-digit years
# (sortable()), and strftime writes year 999 as "999", which sorts after "2026": without the
# bound a quote at 0999-… would meet the latest version.
EARLIEST_QUOTE = datetime(1970, 1, 1, tzinfo=UTC)
# Both bounds in the words of messages: "1970-01-01", "3000-01-01".
_QUOTE_YEARS = (EARLIEST_QUOTE.date().isoformat(), LATEST_EFFECTIVE.date().isoformat())
# limits.CLOCK_SKEW in the words of messages and the OpenAPI document.
ALLOWANCE = f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes"


def _moment(value: str, field: str) -> datetime:
    """An RFC 3339 date-time with an offset, as UTC; anything else is a 400 naming `field`."""
    try:
        moment = parse_rfc3339(value.strip())
    except ValueError:
        raise InvalidRequestError(
            f"{field}: {value[:64]!r} is not a valid date-time",
            errors=[FieldIssue(field, "is not a valid date-time")],
        ) from None
    if moment is None:
        raise InvalidRequestError(
            f"{field}: {value[:64]!r} is not an RFC 3339 date-time with an offset",
            errors=[FieldIssue(field, "must be an RFC 3339 date-time, e.g. 2026-12-01T08:00:00Z")],
        )
    return moment


class PublishRequest(BaseModel):
    """POST …/pricing/publish: optionally when the published version takes effect."""

    model_config = ConfigDict(extra="forbid")

    effective_at: Annotated[str, Field(max_length=64)] | None = Field(
        default=None,
        description=f"RFC 3339 date-time, more than {ALLOWANCE} ahead (the completion-time "
        f"allowance: a task may report completed_at up to {ALLOWANCE} in the future, so an earlier "
        "time could fall after a task already billed). Until then the previous version stays "
        "live; tasks completing at or after it are priced with this one.",
    )


class DraftPricing(BaseModel):
    revision: int
    updated_at: str
    pricing: AppPricing


class AppPricingView(BaseModel):
    app: str
    live: LivePricing | None = None
    scheduled: list[LivePricing] | None = Field(
        default=None,
        description="Versions published to take effect later, soonest first (owner only).",
    )
    draft: DraftPricing | None = None
    warnings: list[FieldMessage] = Field(
        default_factory=empty_list,
        description="Advice: on the saved draft (PATCH); on a publish, each version still "
        "scheduled to take effect after the one published, which will replace it then unless "
        "cancelled (field effective_at).",
    )


class ScheduledPricingView(BaseModel):
    """GET …/pricing/scheduled (owner only): what is published but not yet in effect."""

    app: str
    scheduled: list[LivePricing] = Field(
        description="Versions published to take effect later, soonest first; each may be "
        f"cancelled (DELETE …/pricing/scheduled/{{version}}) until {ALLOWANCE} before it does."
    )


def app_path(namespace: str, name: str) -> str:
    for field, value in (("namespace", namespace), ("name", name)):
        if not _APP_PART.fullmatch(value):
            raise InvalidRequestError(
                f"invalid app {field} {value!r}",
                errors=[
                    FieldIssue(field, "lower-case letters, digits, '.', '_' or '-', up to 128")
                ],
            )
    return f"{namespace}/{name}"


class PricingStore:
    def __init__(
        self,
        repository: PricingRepository,
        evaluator: PricingEvaluator,
        checker: CelEngine,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repository = repository
        self.evaluator = evaluator
        self.checker = checker
        self.clock = clock

    def read(self, caller: Caller, namespace: str, app: str) -> AppPricingView:
        """What the caller may see: everything for the owner, the live version for anyone else."""
        if caller.team_id == namespace:
            return self.view(app)
        live = self.repository.live(app, self.clock())
        if live is None:
            raise NotFoundError(f"no published pricing for {app}")
        return AppPricingView(app=app, live=LivePricing.of(live))

    def scheduled(self, caller: Caller, namespace: str, app: str) -> ScheduledPricingView:
        """The owner's scheduled versions; to anyone else there are none to see (404, as for any
        owner-only data: the answer must not tell another team whether the app has any)."""
        if caller.team_id != namespace:
            raise NotFoundError(f"no scheduled pricing for {app}")
        versions = self.repository.scheduled(app, self.clock())
        return ScheduledPricingView(app=app, scheduled=[LivePricing.of(v) for v in versions])

    def cancel(self, caller: Caller, namespace: str, app: str, version: int) -> None:
        """Cancel a scheduled version (docs/billing.md): only while it is more than the
        completion-time
        allowance ahead. Within it, billing may already have priced a task completing after its
        effective_at with it (billing accepts completed_at up to CLOCK_SKEW ahead), so removing
        it then would leave a record priced by a version that never took effect: 409. The same
        allowance is why a publish must schedule at least that far ahead."""
        if caller.team_id != namespace:  # the owner's 404 for a version it never had
            raise NotFoundError(f"{app} has no scheduled version {version}")
        self.repository.cancel(app, version, self.clock, CLOCK_SKEW)

    def quote(self, app: str, request: QuoteRequest | None) -> Quote:
        """Price a hypothetical task with the version live at `at` (default now): the version
        billing would price a task completing then with, found by the same lookup billing uses
        (PricingRepository.live_at), so a quote and the bill agree. Any team may quote (store
        listings are public), the owner included, and all see the same answer.

        A quote at a time after a scheduled version's effective_at prices with that version, for
        any team: publishing is what makes a price public, it only takes effect later, and a
        customer deciding whether to run tasks then needs exactly that figure (valid_until, which
        every caller is given, already says a change is coming). The schedule's formulas and its
        management (GET/DELETE …/scheduled) stay the owner's, and so does the draft, which a
        quote never reads; a cancelled version left the lookup's range and is never quoted.

        Reads: two single-item queries (the version live at `at`, the next after it), whatever
        the app's history; the pricing work is the evaluator's, bounded per formula."""
        request = request or QuoteRequest()
        moment = self.clock()
        if request.at is not None:
            moment = _moment(request.at, "at")
            if not EARLIEST_QUOTE <= moment < LATEST_EFFECTIVE:
                raise InvalidRequestError(
                    f"at: {request.at[:64]} is outside {_QUOTE_YEARS[0]} to {_QUOTE_YEARS[1]}",
                    errors=[
                        FieldIssue(
                            "at", f"must be from {_QUOTE_YEARS[0]} and before {_QUOTE_YEARS[1]}"
                        )
                    ],
                )
        live = self.repository.live_at(app, moment)
        if live is None:
            raise NotFoundError(
                f"no published pricing for {app}: nothing to quote"
                if request.at is None
                else f"no published pricing for {app} was live at {sortable(moment)}"
            )
        following = self.repository.next_after(app, moment)
        preview = PricingPreview.of(self.evaluator.price(live.pricing, request.pricing_input()))
        return Quote(
            **dict(preview),
            pricing_version=live.version,
            valid_until=None if following is None else following.effective_at,
        )

    def view(self, app: str) -> AppPricingView:
        """The owner's view: live, scheduled and draft."""
        now = self.clock()
        live = self.repository.live(app, now)
        draft = self.repository.draft(app)
        return AppPricingView(
            app=app,
            live=None if live is None else LivePricing.of(live),
            scheduled=[LivePricing.of(v) for v in self.repository.scheduled(app, now)],
            draft=None
            if draft is None
            else DraftPricing(
                revision=draft.revision, updated_at=draft.updated_at, pricing=draft.pricing
            ),
        )

    def patch(
        self, caller: Caller, namespace: str, app: str, patch: PricingPatch
    ) -> AppPricingView:
        self._require_owner(caller, namespace)
        draft = self.repository.draft(app)
        if draft is not None:
            base, revision = draft.pricing, draft.revision
        else:
            live = self.repository.live(app, self.clock())
            base, revision = (live.pricing if live else AppPricing()), 0
        updated = self._apply(base, patch)
        self.repository.save_draft(app, updated, revision, self.clock())
        warnings = [
            FieldMessage(field="description", message=message)
            for message in description_warnings(patch.description or "")
        ]
        return self.view(app).model_copy(update={"warnings": warnings})

    def publish(
        self,
        caller: Caller,
        namespace: str,
        app: str,
        request: PublishRequest | None = None,
    ) -> AppPricingView:
        """The draft becomes the next version, live now or from `effective_at` (docs/billing.md)."""
        self._require_owner(caller, namespace)
        now = self.clock()
        effective_at = None
        if request is not None and request.effective_at is not None:
            effective_at = _moment(request.effective_at, "effective_at")
            if effective_at <= now + CLOCK_SKEW:
                # The completion-time allowance (docs/billing.md): billing accepts completed_at up
                # to
                # CLOCK_SKEW ahead, so a task billed a moment ago with the live version may
                # complete as late as now + CLOCK_SKEW; a version taking effect sooner would be
                # the one live at that task's completed_at, and its record would disagree.
                raise InvalidRequestError(
                    f"effective_at {request.effective_at[:64]} is less than {ALLOWANCE} ahead: "
                    f"tasks may report completed_at up to {ALLOWANCE} in the future, so a "
                    "version must be scheduled later than any task already billed",
                    errors=[
                        FieldIssue(
                            "effective_at",
                            f"must be more than {ALLOWANCE} ahead (omit it to publish now)",
                        )
                    ],
                )
            if effective_at >= LATEST_EFFECTIVE:
                raise InvalidRequestError(
                    f"effective_at must be before {_QUOTE_YEARS[1]}",
                    errors=[FieldIssue("effective_at", f"must be before {_QUOTE_YEARS[1]}")],
                )
        draft = self.repository.draft(app)
        if draft is None:
            raise NotFoundError(f"{app} has no draft pricing to publish")
        published = self.repository.publish(
            app, draft.pricing, now, effective_at, max_scheduled=MAX_SCHEDULED_VERSIONS
        )
        view = self.view(app)
        # A version scheduled to take effect after this one replaces it then (the latest to have
        # taken effect is live): say so, rather than let the earlier schedule win silently.
        warnings = [
            FieldMessage(
                field="effective_at",
                message=f"version {later.version} is scheduled to take effect at "
                f"{later.effective_at} and will replace version {published.version} then, "
                f"unless cancelled (DELETE …/pricing/scheduled/{later.version})",
            )
            for later in view.scheduled or []
            if later.effective_at > published.effective_at
        ]
        return view.model_copy(update={"warnings": warnings})

    def _apply(self, base: AppPricing, patch: PricingPatch) -> AppPricing:
        data: dict[str, Any] = base.model_dump()
        changes = patch.model_dump(exclude_unset=True)
        if changes.get("prices") is not None:
            prices = dict(base.prices)
            for name, value in changes.pop("prices").items():
                if value == 0:
                    prices.pop(name, None)
                else:
                    prices[name] = value
            data["prices"] = prices
        else:
            changes.pop("prices", None)
        for name, value in changes.items():
            if value is not None:
                data[name] = value
        data["description"] = description_source(data.get("description") or "")
        data["description_rendered"] = None
        try:
            pricing = AppPricing.model_validate(data)
        except ValidationError as error:
            issues = [
                FieldIssue(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()
            ]
            raise InvalidRequestError("the edited pricing is invalid", errors=issues) from None
        issues = validate_pricing(pricing, self.checker)
        if issues:
            raise InvalidRequestError(
                "a formula does not compile: " + join_issues(issues),
                errors=issues,
            )
        rendered = self.evaluator.render_description(pricing)
        if rendered.error:
            raise InvalidRequestError(
                f"description: {rendered.error}", errors=[FieldIssue("description", rendered.error)]
            )
        return pricing.model_copy(update={"description_rendered": rendered.value})

    @staticmethod
    def _require_owner(caller: Caller, namespace: str) -> None:
        if caller.team_id != namespace:
            raise ForbiddenError(f"team {caller.team_id} cannot edit apps in namespace {namespace}")
