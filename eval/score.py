"""Run scripted conversations through an engine and turn the per-turn scores into metrics.json."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from eval import metrics as M
from eval.checks import ConvContext, TurnScore, check_turn
from eval.facts import Facts
from eval.harness import Engine, TurnRecord, new_session_id, run_turn
from eval.suite import Conversation


@dataclass
class ConvResult:
    conv: Conversation
    records: list[TurnRecord]
    scores: list[TurnScore]

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.scores)


def run_conversation(engine: Engine, conv: Conversation, facts: Facts) -> ConvResult:
    sid = new_session_id(conv.id)
    ctx = ConvContext()
    records, scores = [], []
    for turn in conv.turns:
        rec = run_turn(engine, sid, turn.user, customer_id=conv.customer_id)
        ctx.add(rec)
        records.append(rec)
        scores.append(check_turn(turn.expect, rec, facts, ctx))
    return ConvResult(conv, records, scores)


def latency(records: list[TurnRecord]) -> dict[str, Any]:
    return {
        "products": M.latency_summary([r.ms_products for r in records if r.ms_products is not None]),
        "first_token": M.latency_summary([r.ms_first_token for r in records if r.ms_first_token is not None]),
        "full_reply": M.latency_summary([r.ms_done for r in records if r.ms_done is not None]),
    }


def scripted_metrics(results: list[ConvResult]) -> dict[str, Any]:
    """End-to-end and per-stage metrics over scripted conversations (pure: no engine calls)."""
    scores = [s for r in results for s in r.scores]
    records = [rec for r in results for rec in r.records]
    claims = sum(s.claims.claims for s in scores)
    supported = sum(s.claims.supported for s in scores)
    fails: Counter[str] = Counter(name for s in scores for name, ok, _ in s.checks if not ok)
    per_suite: dict[str, list[ConvResult]] = defaultdict(list)
    for r in results:
        per_suite[r.conv.suite].append(r)
    per_intent: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    for s in scores:
        if s.intent is not None:
            for name in s.intent[0][:1]:
                per_intent[name].append((s.intent[0], s.intent[1]))
    ent = M.set_prf([s.entities for s in scores if s.entities is not None])
    return {
        "conversations": len(results),
        "turns": len(scores),
        "task_success": M.ratio(sum(r.passed for r in results), len(results)),
        "turn_pass_rate": M.ratio(sum(s.passed for s in scores), len(scores)),
        "constraint_satisfaction": M.ratio(
            sum(s.cards_ok for s in scores), sum(s.cards_checked for s in scores)
        ),
        "cards_checked": sum(s.cards_checked for s in scores),
        "groundedness": M.ratio(supported, claims),
        "claims": claims,
        "unknown_products": sum(len(s.claims.unknown_products) for s in scores),
        "wrong_prices": sum(len(s.claims.wrong_prices) for s in scores),
        "wrong_ratings": sum(len(s.claims.wrong_ratings) for s in scores),
        "handoff": M.precision_recall([s.handoff for s in scores if s.handoff is not None]),
        "stages": {
            "intent_accuracy": M.accuracy([s.intent for s in scores if s.intent is not None]),
            "entity_f1": ent["f1"],
            "entity_precision": ent["precision"],
            "entity_recall": ent["recall"],
            "retrieval_ndcg@5": M.mean([s.ndcg5 for s in scores]),
        },
        "per_intent_accuracy": {k: M.accuracy(v) for k, v in sorted(per_intent.items())},
        "per_suite": {
            k: {
                "conversations": len(v),
                "task_success": M.ratio(sum(r.passed for r in v), len(v)),
                "turn_pass_rate": M.ratio(
                    sum(s.passed for r in v for s in r.scores), sum(len(r.scores) for r in v)
                ),
            }
            for k, v in sorted(per_suite.items())
        },
        "check_failures": dict(fails.most_common()),
        "engine_errors": sum(1 for r in records if r.error),
        "backends": dict(Counter(r.backend for r in records)),
    }


def transcript(r: ConvResult) -> dict[str, Any]:
    return {
        "id": r.conv.id,
        "suite": r.conv.suite,
        "customer_id": r.conv.customer_id,
        "passed": r.passed,
        "turns": [
            {
                "user": rec.user,
                "intents": rec.intents,
                "action": rec.action,
                "tools": rec.tools,
                "cards": [f"{c.get('product_id')} {c.get('title')} ${c.get('price')}" for c in rec.cards],
                "reply": rec.text,
                "backend": rec.backend,
                "failures": s.failures(),
                "ms_done": rec.ms_done,
            }
            for rec, s in zip(r.records, r.scores, strict=True)
        ],
    }
