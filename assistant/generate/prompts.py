"""Prompts are package data: ``prompts/*.yaml`` holding Jinja2 templates rendered with StrictUndefined."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

from assistant.errors import ConfigError


def _money(value: float | None, currency: str = "USD") -> str:
    """A product's price as the shop would print it: $91.99, £24.99, ₹1,499.00."""
    if value is None:
        return "price unknown"
    from knowledge.money import format_money, locale_for

    return format_money(value, currency, locale_for(currency), digits=None)  # "$91.99", "SAR 695"


def _attr_name(key: str) -> str:
    """weight_g -> "weight", battery_life_hours -> "battery life"."""
    parts = key.split("_")
    if len(parts) > 1 and len(parts[-1]) <= 5 and parts[-1] in _UNIT_SUFFIXES:
        parts = parts[:-1]
    return " ".join(parts)


def _with_unit(value: str, key: str) -> str:
    """The value with its unit: "230" of weight_g -> "230 g"; one that carries its unit ("4.5 kg") stays."""
    unit = key.rsplit("_", 1)[-1] if "_" in key else ""
    if unit in _UNIT_SUFFIXES and str(value).replace(".", "").isdigit():
        return f"{value} {_UNIT_WORDS.get(unit, unit)}"
    return str(value)


_UNIT_WORDS = {"in": "in", "f": "°F", "l": "L", "mbps": "MB/s", "hz": "Hz", "mah": "mAh"}
_UNIT_SUFFIXES = frozenset(
    {
        "g",
        "kg",
        "lb",
        "mm",
        "cm",
        "in",
        "ft",
        "l",
        "ml",
        "hours",
        "days",
        "min",
        "minutes",
        "watts",
        "hz",
        "mbps",
        "mah",
        "f",
        "gsm",
    }
)


def _rated(value: float | None) -> str:
    return "not rated yet" if value is None else f"rated {value:.1f}/5"


def _stars(value: float | None) -> str:
    return "no rating yet" if value is None else f"{value:.1f}/5"


class PromptSet:
    """All templates of one YAML file, compiled once per instance (no module-level cache)."""

    def __init__(self, name: str) -> None:
        try:
            raw = resources.files("assistant.generate").joinpath("prompts", f"{name}.yaml").read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"prompt file prompts/{name}.yaml is missing: reinstall with `pip install -e .`"
            ) from None
        env = Environment(
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        env.filters["money"] = _money
        env.filters["stars"] = _stars
        env.filters["rated"] = _rated
        env.filters["attr_name"] = _attr_name
        env.filters["with_unit"] = _with_unit
        self.raw: dict[str, str] = {k: str(v) for k, v in (yaml.safe_load(raw) or {}).items()}
        self._templates: dict[str, Template] = {k: env.from_string(v) for k, v in self.raw.items()}

    def has(self, key: str) -> bool:
        return key in self._templates

    def render(self, key: str, **ctx: Any) -> str:
        if key not in self._templates:
            raise ConfigError(
                f"prompt {key!r} missing from the prompt file: add it under assistant/generate/prompts/"
            )
        return self._templates[key].render(**ctx).strip()
