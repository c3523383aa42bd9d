"""Prompts are package data: ``prompts/*.yaml`` holding Jinja2 templates rendered with StrictUndefined."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

from assistant.errors import ConfigError


def _money(value: float | None, currency: str = "USD") -> str:
    if value is None:
        return "price unknown"
    sign = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{value:,.2f}"


def _stars(value: float | None) -> str:
    return "no rating yet" if value is None else f"{value:.1f}/5"


class PromptSet:
    """All templates of one YAML file, compiled once per instance (no module-level cache)."""

    def __init__(self, name: str) -> None:
        try:
            raw = resources.files("assistant.generate").joinpath("prompts", f"{name}.yaml").read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError(f"prompt file prompts/{name}.yaml is missing: reinstall with `pip install -e .`") from None
        env = Environment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=False)
        env.filters["money"] = _money
        env.filters["stars"] = _stars
        self.raw: dict[str, str] = {k: str(v) for k, v in (yaml.safe_load(raw) or {}).items()}
        self._templates: dict[str, Template] = {k: env.from_string(v) for k, v in self.raw.items()}

    def has(self, key: str) -> bool:
        return key in self._templates

    def render(self, key: str, **ctx: Any) -> str:
        if key not in self._templates:
            raise ConfigError(f"prompt {key!r} missing from the prompt file: add it under assistant/generate/prompts/")
        return self._templates[key].render(**ctx).strip()
