"""Estimated cost of a Claude API response, from a documented price table.

The prices are Anthropic's public list prices in US dollars per million tokens (standard tier,
no batch discount), as published on the Claude pricing page (claude.com/pricing and the API
docs' "Pricing" page, models and deprecations pages for retired models) on `PRICES_AS_OF`. The
result is an **estimate**: it ignores batch and regional pricing, server-side tool fees, and
discounts. Update ``PRICES`` when prices change; ``docs/collect/claude-code.md`` shows the table.
``[pricing]`` in config.toml overrides or adds models (`PriceTable.from_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ai_telemetry.errors import ConfigError

PRICES_AS_OF: Final = "2026-11-30"
"""When the built-in table was last checked against the published prices."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens for one model family."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


_OPUS_NEW = Price(5.0, 25.0, 6.25, 10.0, 0.50)
_OPUS_OLD = Price(15.0, 75.0, 18.75, 30.0, 1.50)
_SONNET = Price(3.0, 15.0, 3.75, 6.0, 0.30)
_SONNET_LONG = Price(6.0, 22.50, 7.50, 12.0, 0.60)
_OPUS_NEW_LONG = Price(10.0, 37.50, 12.50, 20.0, 1.00)

PRICES: Final[tuple[tuple[str, Price], ...]] = (
    # (substring of the model id, price); the first match wins, so specific names come first.
    ("opus-4-7", _OPUS_NEW),
    ("opus-4-6", _OPUS_NEW),
    ("opus-4-5", _OPUS_NEW),
    ("opus-4-1", _OPUS_OLD),
    ("opus-4", _OPUS_OLD),
    ("3-opus", _OPUS_OLD),
    ("sonnet-4", _SONNET),  # sonnet-4, sonnet-4-5, sonnet-4-6
    ("3-7-sonnet", _SONNET),
    ("3-5-sonnet", _SONNET),
    ("3-sonnet", _SONNET),  # claude-3-sonnet-20240229 (retired)
    ("haiku-4-5", Price(1.0, 5.0, 1.25, 2.0, 0.10)),
    ("3-5-haiku", Price(0.80, 4.0, 1.0, 1.6, 0.08)),
    ("3-haiku", Price(0.25, 1.25, 0.30, 0.50, 0.03)),
    # retired models still found in old transcripts and logs (no prompt caching then)
    ("claude-2", Price(8.0, 24.0, 8.0, 8.0, 8.0)),  # claude-2.0, claude-2.1
    ("claude-instant", Price(0.80, 2.40, 0.80, 0.80, 0.80)),
)
"""Model id substring -> list price. Covers current, recent and retired Claude models."""

LONG_CONTEXT_PRICES: Final[tuple[tuple[str, Price], ...]] = (
    ("sonnet-4", _SONNET_LONG),  # sonnet-4, sonnet-4-5, sonnet-4-6 with the 1M window
    ("opus-4-6", _OPUS_NEW_LONG),
    ("opus-4-7", _OPUS_NEW_LONG),
)
"""Prices for requests whose prompt (input + cache write + cache read) exceeds 200,000 tokens,
for models with a 1M-token context window (the long-context premium)."""

LONG_CONTEXT_THRESHOLD: Final = 200_000
DEFAULT_CONTEXT_WINDOW: Final = 200_000
LARGE_CONTEXT_WINDOW: Final = 1_000_000


def _lookup(model: str, table: tuple[tuple[str, Price], ...]) -> Price | None:
    name = model.lower()
    for key, price in table:
        if key in name:
            return price
    return None


def price_for(model: str) -> Price | None:
    """The list price of a model id (``claude-opus-4-5-20251101``, Bedrock ids too), or None."""
    return _lookup(model, PRICES)


def _int(usage: Mapping[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def estimate_cost(
    model: str, usage: Mapping[str, Any], *, table: PriceTable | None = None
) -> float | None:
    """Estimated USD cost of one response.

    Args:
        model: the model id from the response.
        usage: the response's ``usage`` object (``input_tokens``, ``output_tokens``,
            ``cache_creation_input_tokens``, ``cache_read_input_tokens`` and, when present,
            ``cache_creation.ephemeral_5m_input_tokens`` / ``ephemeral_1h_input_tokens``).
        table: the prices (default: the built-in table, no overrides).

    Returns:
        Dollars rounded to 8 decimals, or None for a model not in the table.
    """
    inp = _int(usage, "input_tokens")
    out = _int(usage, "output_tokens")
    write = _int(usage, "cache_creation_input_tokens")
    read = _int(usage, "cache_read_input_tokens")
    price = (table or _BUILT_IN).price(model, prompt_tokens=inp + write + read)
    if price is None:
        return None
    detail = usage.get("cache_creation")
    write_1h = _int(detail, "ephemeral_1h_input_tokens") if isinstance(detail, Mapping) else 0
    write_1h = min(write_1h, write)
    write_5m = write - write_1h
    dollars = (
        inp * price.input
        + out * price.output
        + write_5m * price.cache_write_5m
        + write_1h * price.cache_write_1h
        + read * price.cache_read
    ) / 1_000_000
    return round(dollars, 8)


def context_window(
    model: str, *, used_tokens: int = 0, overrides: Mapping[str, Any] | None = None
) -> int:
    """The context window of a model, in tokens.

    Args:
        model: the model id.
        used_tokens: tokens in the context now; more than 200,000 proves a 1M-token window.
        overrides: ``[models]`` section of config.toml, e.g.
            ``{"claude-sonnet-4-5": {"context_window": 1000000}}`` (exact id or substring).

    Returns:
        The configured window, else 1,000,000 for ``[1m]`` variants or when ``used_tokens``
        exceeds 200,000, else 200,000.
    """
    if overrides:
        for key, value in overrides.items():
            if key in model and isinstance(value, Mapping):
                window = value.get("context_window")
                if isinstance(window, int) and window > 0:
                    return window
    if "[1m]" in model.lower() or used_tokens > DEFAULT_CONTEXT_WINDOW:
        return LARGE_CONTEXT_WINDOW
    return DEFAULT_CONTEXT_WINDOW


_PRICE_FIELDS: Final = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def _price_from(name: str, raw: object) -> Price:
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"config.toml [pricing.{name!r}]: give a table of USD per million tokens, e.g. "
            "input = 3.0, output = 15.0"
        )
    unknown = sorted(set(raw) - set(_PRICE_FIELDS))
    if unknown:
        raise ConfigError(
            f"config.toml [pricing.{name!r}]: unknown key {unknown[0]!r}; use "
            + ", ".join(_PRICE_FIELDS)
        )
    values: dict[str, float] = {}
    for key in _PRICE_FIELDS:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(
                f"config.toml [pricing.{name!r}] {key} = {value!r}: give a number >= 0 "
                "(USD per million tokens)"
            )
        values[key] = float(value)
    if "input" not in values or "output" not in values:
        raise ConfigError(f"config.toml [pricing.{name!r}]: input and output are required")
    base = values["input"]
    return Price(
        values["input"],
        values["output"],
        values.get("cache_write_5m", base * 1.25),
        values.get("cache_write_1h", base * 2.0),
        values.get("cache_read", base * 0.1),
    )


@dataclass(frozen=True, slots=True)
class PriceTable:
    """The built-in prices with the ``[pricing]`` overrides of config.toml in front.

    An override's key is a model id or a substring of one (``"claude-opus-4-5"``,
    ``"my-proxy-model"``); it applies to every prompt size (no long-context premium). Omitted
    cache prices follow Anthropic's ratios: 5-minute write 1.25x input, 1-hour write 2x, read
    0.1x.
    """

    overrides: tuple[tuple[str, Price], ...] = ()

    @classmethod
    def from_config(cls, section: object) -> PriceTable:
        """From the ``[pricing]`` section (None: no overrides).

        Raises:
            ConfigError: the section or a model's table is malformed.
        """
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise ConfigError(
                "config.toml [pricing]: give one table per model, e.g. "
                '[pricing."claude-opus-4-5"] input = 5.0 output = 25.0'
            )
        # longer keys first: the most specific override wins
        items = sorted(section.items(), key=lambda kv: -len(str(kv[0])))
        return cls(tuple((str(k).lower(), _price_from(str(k), v)) for k, v in items))

    def price(self, model: str, *, prompt_tokens: int = 0) -> Price | None:
        """The price of one response of ``model`` with a prompt of ``prompt_tokens``."""
        found = _lookup(model, self.overrides)
        if found is not None:
            return found
        if prompt_tokens > LONG_CONTEXT_THRESHOLD:
            found = _lookup(model, LONG_CONTEXT_PRICES)
        return found or price_for(model)

    def cost(self, model: str, usage: Mapping[str, Any]) -> float | None:
        """`estimate_cost` with this table."""
        return estimate_cost(model, usage, table=self)


_BUILT_IN: Final = PriceTable()
