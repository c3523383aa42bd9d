"""Experiments: declared arms, sticky assignment, and what each arm serves.

An experiment file (TOML, JSON or YAML; ``AISLE_EXPERIMENTS_FILE``, default
``<data_dir>/experiments.toml``) declares experiments::

    [[experiment]]
    name = "blend-vs-pop"
    start = "2026-12-01"            # optional; ISO dates or times, UTC
    end = "2027-01-01"              # optional
    [[experiment.arm]]
    name = "hybrid"
    traffic = 0.5
    [[experiment.arm]]
    name = "pop"
    traffic = 0.5
    blend = { popularity = 1.0 }    # recommender blend weights; the keys are the model set
    diversity = 0.0                 # MMR re-ranking strength 0..1 (category/brand overlap)
    reply_style = "default"         # or "brief": the answer without the notes and question after it
    rank_weights = { recommender = 0.4, text = 0.3, rating = 0.3 }   # a product list's blend

Assignment hashes the experiment's name with the customer id (the session id when anonymous), so
it is deterministic and sticky without storing anything, and independent across experiments. One
experiment serves at a time (the first running one in the file): overlapping experiments would
confound each other's arms. Stopping an experiment (and promoting a winner) is written to a small
state file beside the database, which every process re-reads when it changes, so ``aisle
experiments stop`` takes effect in a running server without a restart.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,19}$")
ARM_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,9}$")
REPLY_STYLES = ("default", "brief")
RANK_WEIGHTS = (0.4, 0.3, 0.3)  # assistant.tools.recommend's blend: recommender, request text, rating


@dataclass(frozen=True)
class Arm:
    """What one arm serves. ``blend`` None keeps the fitted hybrid's learned weights."""

    name: str
    traffic: float = 1.0
    blend: Mapping[str, float] | None = None
    diversity: float = 0.0
    reply_style: str = "default"
    # How a product list weighs the recommender, the match to the request's words and the rating.
    rank_weights: tuple[float, float, float] = RANK_WEIGHTS


DEFAULT_ARM = Arm("default")


@dataclass(frozen=True)
class Experiment:
    name: str
    arms: tuple[Arm, ...]
    start: datetime | None = None
    end: datetime | None = None

    def running(self, now: datetime) -> bool:
        return (self.start is None or now >= self.start) and (self.end is None or now < self.end)

    def assign(self, key: str | None) -> Arm:
        """The arm for a customer (or anonymous session): a hash of (experiment, key) in [0, 1)
        against the arms' cumulative traffic shares."""
        digest = hashlib.sha256(f"aisle-exp:{self.name}:{key or 'anonymous'}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        total = sum(a.traffic for a in self.arms)
        acc = 0.0
        for arm in self.arms:
            acc += arm.traffic / total
            if u < acc:
                return arm
        return self.arms[-1]

    def shares(self) -> dict[str, float]:
        total = sum(a.traffic for a in self.arms)
        return {a.name: a.traffic / total for a in self.arms}

    def arm(self, name: str) -> Arm:
        for a in self.arms:
            if a.name == name:
                return a
        raise ConfigError(f"experiment {self.name!r} has no arm {name!r}: use one of {self.arm_names}")

    @property
    def arm_names(self) -> list[str]:
        return [a.name for a in self.arms]


@dataclass(frozen=True)
class Assignment:
    """What a shopper is served: the arm, and the experiment it belongs to (None once promoted)."""

    arm: Arm = DEFAULT_ARM
    experiment: str | None = None

    @property
    def variant(self) -> str | None:
        """The events' ``variant`` column: "experiment:arm" (at most 31 characters by the name rules)."""
        return f"{self.experiment}:{self.arm.name}" if self.experiment else None


def split_variant(variant: str | None) -> tuple[str, str] | None:
    if not variant or ":" not in variant:
        return None
    exp, _, arm = variant.partition(":")
    return exp, arm


def _when(value: Any, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{what}: {value!r} is not an ISO date or time (e.g. 2026-12-01)") from None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def _arm(raw: Mapping[str, Any], exp: str) -> Arm:
    name = str(raw.get("name", ""))
    if not ARM_NAME.match(name):
        raise ConfigError(f"experiment {exp!r}: arm name {name!r} must be 1-10 of a-z 0-9 _ . -")
    blend = raw.get("blend")
    if blend is not None:
        if not isinstance(blend, Mapping) or not blend or any(float(v) < 0 for v in blend.values()):
            raise ConfigError(f"experiment {exp!r} arm {name!r}: blend is a table of model = weight >= 0")
        blend = {str(k): float(v) for k, v in blend.items()}
    style = str(raw.get("reply_style", "default"))
    if style not in REPLY_STYLES:
        raise ConfigError(f"experiment {exp!r} arm {name!r}: reply_style is one of {REPLY_STYLES}")
    diversity = float(raw.get("diversity", 0.0))
    traffic = float(raw.get("traffic", 1.0))
    if not 0.0 <= diversity <= 1.0 or traffic <= 0:
        raise ConfigError(f"experiment {exp!r} arm {name!r}: diversity in 0..1 and traffic > 0")
    rank = raw.get("rank_weights", RANK_WEIGHTS)
    if isinstance(rank, Mapping):
        rank = (rank.get("recommender", 0.0), rank.get("text", 0.0), rank.get("rating", 0.0))
    rank = tuple(float(x) for x in rank)
    if len(rank) != 3 or min(rank) < 0 or sum(rank) <= 0:
        raise ConfigError(
            f"experiment {exp!r} arm {name!r}: rank_weights = {{recommender, text, rating}} >= 0"
        )
    return Arm(name, traffic, blend, diversity, style, (rank[0], rank[1], rank[2]))


def parse_experiments(raw: Mapping[str, Any]) -> list[Experiment]:
    """Experiments from a parsed file ({"experiment": [...]})."""
    out: list[Experiment] = []
    for e in raw.get("experiment", raw.get("experiments", [])) or []:
        name = str(e.get("name", ""))
        if not NAME.match(name):
            raise ConfigError(f"experiment name {name!r} must be 1-20 of a-z 0-9 _ . - (starting a-z 0-9)")
        arms = tuple(_arm(a, name) for a in e.get("arm", e.get("arms", [])) or [])
        if len(arms) < 2 or len({a.name for a in arms}) != len(arms):
            raise ConfigError(f"experiment {name!r} needs at least two arms with distinct names")
        out.append(Experiment(name, arms, _when(e.get("start"), name), _when(e.get("end"), name)))
    if len({e.name for e in out}) != len(out):
        raise ConfigError("two experiments share a name: names key assignment and reports")
    return out


def read_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return dict(json.loads(text))
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return dict(yaml.safe_load(text) or {})
    import tomllib

    return tomllib.loads(text)


@dataclass
class ExperimentBook:
    """The declared experiments plus their stop/promote state (a JSON file, re-read on change)."""

    experiments: list[Experiment]
    state_path: Path | None = None
    _state: dict[str, Any] = field(default_factory=dict)
    _mtime: float = -1.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_file(cls, path: Path | None, state_path: Path | None = None) -> ExperimentBook:
        if path is None or not path.is_file():
            return cls([], state_path)
        return cls(parse_experiments(read_file(path)), state_path)

    @classmethod
    def from_settings(cls, settings: Any) -> ExperimentBook:
        data_dir = Path(settings.data_dir)
        path = getattr(settings, "experiments_file", None) or data_dir / "experiments.toml"
        return cls.from_file(Path(path), data_dir / "experiments-state.json")

    def get(self, name: str) -> Experiment:
        for e in self.experiments:
            if e.name == name:
                return e
        raise ConfigError(f"no experiment {name!r}: declared are {[e.name for e in self.experiments]}")

    def state(self) -> dict[str, Any]:
        """{experiment: {"stopped": iso time, "winner": arm or None}}, re-read when the file changed."""
        p = self.state_path
        if p is None:
            return self._state
        try:
            mtime = p.stat().st_mtime
        except FileNotFoundError:
            return {}
        with self._lock:
            if mtime != self._mtime:
                self._state, self._mtime = dict(json.loads(p.read_text(encoding="utf-8"))), mtime
            return self._state

    def running(self, now: datetime | None = None) -> Experiment | None:
        now = now or datetime.now(UTC)
        stopped = self.state()
        return next((e for e in self.experiments if e.name not in stopped and e.running(now)), None)

    def assignment(self, key: str | None, now: datetime | None = None) -> Assignment:
        exp = self.running(now)
        if exp is not None:
            return Assignment(exp.assign(key), exp.name)
        return Assignment(self._promoted())

    def variant(self, key: str | None) -> str | None:
        return self.assignment(key).variant

    def _promoted(self) -> Arm:
        """The most recently promoted winner serves everyone once its experiment is stopped."""
        done = sorted(
            ((v["stopped"], n, v.get("winner")) for n, v in self.state().items() if v.get("winner")),
            reverse=True,
        )
        for _, name, winner in done:
            try:
                return self.get(name).arm(winner)
            except ConfigError:  # the experiment was removed from the file since: nothing to serve
                continue
        return DEFAULT_ARM

    def stop(self, name: str, winner: str | None = None, now: datetime | None = None) -> None:
        """Stop an experiment (its traffic goes back to the default, or to ``winner``'s arm)."""
        exp = self.get(name)
        if winner is not None:
            exp.arm(winner)
        state = dict(self.state())
        state[name] = {"stopped": (now or datetime.now(UTC)).isoformat(), "winner": winner}
        self._write(state)

    def _write(self, state: dict[str, Any]) -> None:
        if self.state_path is None:
            self._state = state
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_path)


def experiment_from_arms(name: str, arms: Sequence[Arm]) -> Experiment:
    """An experiment built in code (the simulator's traffic runs), checked as a file's would be."""
    raw = {
        "experiment": [
            {
                "name": name,
                "arm": [
                    {
                        "name": a.name,
                        "traffic": a.traffic,
                        "diversity": a.diversity,
                        "reply_style": a.reply_style,
                        "rank_weights": list(a.rank_weights),
                        **({"blend": dict(a.blend)} if a.blend is not None else {}),
                    }
                    for a in arms
                ],
            }
        ]
    }
    return parse_experiments(raw)[0]
