"""Resource rows and the inference meter catalogue (seed inference-meter-pricing, exact µ¢/hour)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from usage_pricing.core.limits import MAX_EVENT_TEXT, MAX_QUANTITY, printable

# Exact microcents per hour. The seed lists $/second to 10 significant digits; these are the
# hourly rates those per-second prices were derived from, so 600 s on llm/micro is exactly
# 31,394,988 × 600 / 3600 = 5,232,498 microcents ($0.05).
METER_CATALOGUE: dict[str, int] = {
    "llm/micro": 31_394_988,
    "llm/xs": 53_101_260,
    "llm/sm": 233_219_988,
    "llm/md": 303_619_536,
    "llm/lg": 466_440_012,
    "llm/xl": 880_875_864,
    "llm/xxl": 1_724_856_660,
    "llm/super": 2_156_070_816,
    "standard/micro": 192_384_000,
    "standard/xs": 240_480_000,
    "standard/sm": 1_539_072_000,
    "standard/md": 1_731_456_000,
    "standard/lg": 3_078_144_000,
    "standard/xl": 5_771_520_000,
    "standard/xxl": 8_849_664_000,
    "standard/super": 10_773_504_000,
}
METER_GPU_RAM_GB: dict[str, int] = {
    "micro": 16, "xs": 24, "sm": 64, "md": 96, "lg": 128, "xl": 192, "xxl": 320, "super": 640,
}  # fmt: skip

Rate = Annotated[int, Field(ge=0, le=MAX_QUANTITY * 1000, description="Microcents.")]
# Validation context of a record read back from storage: it may name a meter since removed from
# the catalogue (a retired meter), whose rate the record keeps (BillingRecord.meter_rates).
STORED = "stored"


class Resource(BaseModel):
    """One row of compute a task ran on. Exactly one of price_per_second, price_per_hour or meter
    sets its rate; a meter resolves to its catalogue price_per_hour."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Annotated[str, Field(max_length=MAX_EVENT_TEXT)] = ""
    type: Literal["gpu", "cpu"] = "gpu"
    tier: Literal["cloud", "private"] = "cloud"
    model: Annotated[str, Field(max_length=MAX_EVENT_TEXT)] = ""
    count: Annotated[int, Field(ge=0, le=1024)] = 1
    price_per_second: Rate | None = None
    price_per_hour: Rate | None = None
    meter: Annotated[str, Field(max_length=64)] | None = None

    @field_validator("name", "model")
    @classmethod
    def _printable(cls, value: str, info: ValidationInfo) -> str:
        # A record read back keeps what it was billed with (older records may hold anything).
        if info.context and info.context.get(STORED):
            return value
        return printable(value)

    @model_validator(mode="after")
    def _one_rate(self, info: ValidationInfo) -> Resource:
        given = [
            name
            for name in ("price_per_second", "price_per_hour", "meter")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "exactly one of price_per_second, price_per_hour or meter is required"
                + (f", got {', '.join(given)}" if given else "")
            )
        stored = bool(info.context and info.context.get(STORED))
        if self.meter is not None and self.meter not in METER_CATALOGUE and not stored:
            raise ValueError(
                f"unknown meter {self.meter!r}; known meters: {', '.join(sorted(METER_CATALOGUE))}"
            )
        return self

    @property
    def hourly_rate(self) -> int | None:
        if self.meter is not None:
            return METER_CATALOGUE[self.meter]  # a stored row is priced through at_rates
        return self.price_per_hour

    def cost_in_hour_units(self, usage_seconds: int) -> int:
        """Exact cost × 3600, an integer: per-hour rates divide by 3600, so summing in these
        units keeps a sum of many rows exact without fractions."""
        hourly = self.hourly_rate
        if hourly is not None:
            return self.count * hourly * usage_seconds
        return self.count * (self.price_per_second or 0) * usage_seconds * 3600

    def to_cel(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.type,
            "tier": self.tier,
            "model": self.model or (self.meter or ""),
            "count": self.count,
            "price_per_second": self.price_per_second or 0,
            "price_per_hour": self.hourly_rate or 0,
        }


def meter_rates(resources: Iterable[Resource]) -> dict[str, int]:
    """The catalogue's hourly rate of each meter the rows name, as a billing record keeps them:
    a later change to the catalogue never changes what an earlier task is priced again at (the
    audit, the backtest) or the meter price its task cost shows."""
    return {r.meter: METER_CATALOGUE[r.meter] for r in resources if r.meter is not None}


def at_rates(resources: Iterable[Resource], rates: Mapping[str, int]) -> list[Resource]:
    """The rows with each metered one at its rate in `rates` (a record's meter_rates): a row at
    that price_per_hour whose model is the meter's name, which formulas see exactly as the
    metered row (model, price_per_hour) and whose resource fee is the same. A meter `rates` does
    not name (a record billed before records kept them) keeps the catalogue's rate."""
    return [
        r
        if r.meter is None or r.meter not in rates
        else Resource(
            name=r.name,
            type=r.type,
            tier=r.tier,
            model=r.model or r.meter,
            count=r.count,
            price_per_hour=rates[r.meter],
        )
        for r in resources
    ]


def usage_seconds_from_ms(elapsed_ms: int) -> int:
    return -(-elapsed_ms // 1000)


def default_resource_fee(resources: list[Resource], usage_seconds: int) -> int:
    """Σ rate × time over every row, summed exactly and rounded once."""
    total = sum(r.cost_in_hour_units(usage_seconds) for r in resources)
    whole, remainder = divmod(total, 3600)
    return whole + 1 if 2 * remainder >= 3600 else whole


__all__ = [
    "METER_CATALOGUE",
    "METER_GPU_RAM_GB",
    "STORED",
    "Resource",
    "at_rates",
    "default_resource_fee",
    "meter_rates",
    "usage_seconds_from_ms",
]
