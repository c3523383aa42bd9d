"""Simulated shoppers as experiment traffic.

Each simulated shopper (eval.simulator: a demo customer looking for their held-out last purchase)
chats with an engine that serves an experiment; the engine records its impressions under the
shopper's arm. What the shopper then does is drawn from a seeded behaviour model: a shown target
is clicked with a probability that falls with its rank (position bias), sometimes added to the cart
and then bought; other cards get an occasional stray click. Clicks, cart adds and purchases are
recorded with the same arm, as the web app's event routes do, and the report reads them all back.

This is the proof that an experiment measures what shoppers see: an arm known to be worse (the
recommender blending popularity only) must come out worse, and an A/A experiment must not show a
difference more often than its level.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.experiment_report import Report, report
from assistant.experiments import Arm, ExperimentBook, experiment_from_arms
from eval.harness import new_session_id
from eval.simulator import Dialogue, Target, simulate

EXPERIMENT_KINDS = ("impression", "click", "cart", "purchase")


@dataclass(frozen=True)
class Behaviour:
    """How a simulated shopper acts on what is shown (probabilities)."""

    click_top: float = 0.85  # clicking the target shown first
    position_decay: float = 0.8  # each rank lower multiplies the click probability by this
    stray_click: float = 0.04  # clicking a card that is not the target
    cart: float = 0.7  # adding a clicked target to the cart
    buy: float = 0.8  # buying what is in the cart


@dataclass
class TrafficRun:
    experiment: str
    dialogues: list[Dialogue]
    arms: dict[str, str]  # customer -> arm served
    report: Report


def act(
    engine: Any,
    d: Dialogue,
    session_id: str,
    variant: str | None,
    rng: random.Random,
    behaviour: Behaviour,
) -> None:
    """Record the shopper's clicks, cart add and purchase for one simulated dialogue."""
    t = d.target

    def record(kind: str, product_id: str) -> None:
        engine.store.add_event(
            kind,
            session_id=session_id,
            customer_id=t.customer_id,
            product_id=product_id,
            variant=variant,
            payload={"source": "simulator"},
        )

    for turn in d.turns:
        for rank, pid in enumerate(turn.card_ids):
            if pid == t.product_id:
                if rng.random() < behaviour.click_top * behaviour.position_decay**rank:
                    record("click", pid)
                    if rng.random() < behaviour.cart:
                        record("cart", pid)
                        if rng.random() < behaviour.buy:
                            record("purchase", pid)
                return  # the dialogue ends where the target was shown
            if rng.random() < behaviour.stray_click:
                record("click", pid)


def run_traffic(
    engine: Any,
    targets: Sequence[Target],
    arms: Sequence[Arm],
    name: str,
    seed: int = 0,
    max_turns: int = 3,
    behaviour: Behaviour | None = None,
    say: Callable[[str], None] = lambda s: None,
) -> TrafficRun:
    """Every target's shopper chats once under the experiment ``name`` (assignment sticky per
    customer); returns the dialogues and the experiment's report over the events recorded."""
    exp = experiment_from_arms(name, arms)
    previous = getattr(engine, "experiments", None)
    engine.experiments = ExperimentBook([exp])
    rng = random.Random(seed)
    behaviour = behaviour or Behaviour()
    dialogues, served = [], {}
    try:
        for i, t in enumerate(targets):
            sid = new_session_id(f"exp-{t.customer_id}")
            assigned = engine.experiments.assignment(t.customer_id)
            served[t.customer_id] = assigned.arm.name
            d = simulate(engine, t, max_turns=max_turns, session_id=sid)
            act(engine, d, sid, assigned.variant, rng, behaviour)
            dialogues.append(d)
            if (i + 1) % 50 == 0:
                say(f"  {name}: {i + 1}/{len(targets)} shoppers")
    finally:
        engine.experiments = previous
    events = engine.store.events(kinds=list(EXPERIMENT_KINDS))
    return TrafficRun(name, dialogues, served, report(events, exp))


def forget_run(store: Any, name: str) -> int:
    """Delete a run's events (by its variant prefix), so the next run's shoppers start from the same
    history: a purchase recorded here would otherwise make the engine treat the product as owned."""
    from assistant.schema import _EVENTS

    with store.tx() as s:
        res = s.execute(_EVENTS.delete().where(_EVENTS.c.variant.like(f"{name}:%")))
        return int(getattr(res, "rowcount", 0) or 0)
