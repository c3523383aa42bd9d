"""`aisle bench chat`: end-to-end latency and grounding over scripted shopper turns on the demo shop.

Real components: the trained NLU, DialogueState, the MiniLM + Chroma retriever (indexed into a
scratch data dir), the fitted shop recommender (loaded, or fitted once), a scratch SQLite store
holding the demo shop, and per backend the template writer or the default GGUF through llama.cpp.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.events import Done, Products, TextDelta

BACKENDS = ("template", "default")


# Guest conversations (no customer logged in): they name no order, so they are fixed.
_SHOES = (
    "Hi!",
    "I need running shoes under $120",
    "something cheaper please",
    "compare the first and the second",
    "what do people say about the comfort of the first one?",
    "is the second one good for trails?",
    "thanks, bye",
)
_GIFT = (
    "I'm looking for a gift",
    "a coffee maker for my dad, under $150",
    "compare the first and the second",
    "what do reviews say about cleaning the first one?",
    "how long does shipping take?",
    "do you price match?",
)
_SMARTWATCH = (
    "show me a smartwatch",
    "under $250",
    "tell me about the first one",
    "compare the first and the second",
    "what's the warranty on it?",
    "what data do you store about me?",
)


def script(demo: Any) -> list[tuple[str | None, list[str]]]:
    """(customer_id, turns) conversations: recommend, refine, compare, reviews, orders, policies."""
    by_status: dict[str, dict[str, Any]] = {}
    for o in demo.orders:
        by_status.setdefault(o["status"], o)
    deliv, proc = by_status["delivered"], by_status["processing"]
    return [
        (deliv["customer_id"], _readme_demo(deliv)),
        (None, list(_SHOES)),
        (None, list(_GIFT)),
        (proc["customer_id"], _order_help(proc)),
        (None, list(_SMARTWATCH)),
    ]


def _readme_demo(order: dict[str, Any]) -> list[str]:
    """The README demo: recommend -> refine -> compare -> reviews -> order status -> return policy."""
    return [
        "I'm looking for wireless headphones under $150",
        "something cheaper, not Sony",
        "compare the first and the second",
        "what do reviews say about the battery life of the first one?",
        f"where is my order {order['id']}? my email is {order['email']}",
        "what's your return policy?",
    ]


def _order_help(order: dict[str, Any]) -> list[str]:
    """An order given in pieces, then cancelled, a return question and a hand-off."""
    return [
        "where is my order?",
        f"it's {order['id']}",
        f"my email is {order['email']}",
        f"please cancel order {order['id']}, email {order['email']}",
        "how do I return something?",
        "I want to talk to a person",
    ]


def demo_markdown(turns: list[dict[str, Any]], model: str) -> str:
    """The first scripted conversation as a README-ready transcript."""
    lines = [
        f"Backend: `{model}`. Product cards arrive before the text; `[id]` marks a cited review or policy.",
        "",
    ]
    for t in turns:
        lines.append(f"**Shopper:** {t['user']}  ")
        if t["cards"]:
            lines.append("*Cards:* " + "; ".join(t["cards"]) + "  ")
        reply = t["reply"].replace("\n", "  \n")
        lines.append(
            f"**Aisle** ({', '.join(t['actions'])}; first token {t['first_token_ms'] or 0:.0f} ms, "
            f"full reply {t['ms']:.0f} ms): {reply}"
        )
        lines.append("")
    return "\n".join(lines)


def _money(v: float | None, currency: str) -> str:
    from assistant.events import price_text

    return price_text(v, currency)  # as the shop prints it, in its currency


def _pct(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"p50": None, "p95": None}
    s = sorted(xs)
    p95 = s[min(len(s) - 1, max(0, round(0.95 * (len(s) - 1))))]
    return {"p50": round(statistics.median(s), 1), "p95": round(p95, 1)}


@dataclass
class _Tally:
    """What one backend's run measured, turn by turn."""

    name: str
    prod_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    full_ms: list[float] = field(default_factory=list)
    unknown: int = 0
    wrong_prices: int = 0
    wrong_ratings: int = 0
    fallbacks: dict[str, int] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def add(self, sid: str, text: str, turn: _Played, report: Any) -> None:
        done = turn.done
        self.full_ms.append(turn.full_ms)
        if turn.products_ms is not None:
            self.prod_ms.append(turn.products_ms)
        model_wrote = done.backend != "template" or "fallback:grounding" in done.actions
        if turn.first_ms is not None and (self.name == "template" or model_wrote):
            self.first_ms.append(turn.first_ms)
        for a in done.actions:
            if a.startswith("fallback:"):
                self.fallbacks[a[9:]] = self.fallbacks.get(a[9:], 0) + 1
        if report is not None:
            self.unknown += len(report.unknown_products)
            self.wrong_prices += len(report.wrong_prices)
            self.wrong_ratings += len(report.wrong_ratings)
        first = None if turn.first_ms is None else round(turn.first_ms, 1)
        self.transcript.append(
            {
                "session": sid,
                "user": text,
                "reply": done.text,
                "actions": done.actions,
                "cards": turn.cards,
                "backend": done.backend,
                "ms": round(turn.full_ms, 1),
                "first_token_ms": first,
            }
        )

    def report(self) -> dict[str, Any]:
        result = {
            "products_ms": _pct(self.prod_ms),
            "first_token_ms": _pct(self.first_ms),
            "full_reply_ms": _pct(self.full_ms),
            "unknown_products": self.unknown,
            "wrong_prices": self.wrong_prices,
        }
        detail = {
            "turns": len(self.transcript),
            "wrong_ratings": self.wrong_ratings,
            "fallbacks": self.fallbacks,
            "model_turns": len(self.first_ms) if self.name != "template" else 0,
            "transcript": self.transcript,
        }
        return {"result": result, "detail": detail}


@dataclass
class _Played:
    done: Done
    full_ms: float
    products_ms: float | None
    first_ms: float | None
    cards: list[str]


def _play(assistant: Any, sid: str, text: str, customer_id: str | None) -> _Played:
    """One turn, with the time of its product cards, first text and reply."""
    t0 = time.perf_counter()
    first = prod = None
    done: Done | None = None
    cards: list[str] = []
    for ev in assistant.stream(sid, text, customer_id=customer_id):
        now = (time.perf_counter() - t0) * 1000
        if isinstance(ev, Products):
            prod = now
            cards = [f"{c.title} ({_money(c.price, c.currency)}, {c.rating or 0:.1f}/5)" for c in ev.cards]
        elif isinstance(ev, TextDelta) and first is None:
            first = now
        elif isinstance(ev, Done):
            done = ev
            full = now
    assert done is not None
    return _Played(done, full, prod, first, cards)


def run_backend(
    assistant: Any, name: str, convs: list[tuple[str | None, list[str]]], log: Any = None, tag: str = ""
) -> dict[str, Any]:
    """Play every conversation; time each event; re-check every final answer against its facts."""
    captured: list[Any] = []
    orig = assistant.generator.stream

    def spy(facts: Any, **kw: Any) -> Any:  # keep the facts each answer was checked against
        captured.append(facts)
        yield from orig(facts, **kw)

    assistant.generator.stream = spy
    tally = _Tally(name)
    try:
        for ci, (cust, turns) in enumerate(convs):
            sid = f"bench-{name}{tag}-{ci}"  # a second run (under contention) starts fresh conversations
            for text in turns:
                captured.clear()
                turn = _play(assistant, sid, text, cust)
                report = (
                    assistant.generator.grounder.check(turn.done.text, captured[-1]) if captured else None
                )
                tally.add(sid, text, turn, report)
                if log:
                    print(
                        f"[{name}] {text!r} -> {turn.done.actions} {turn.full_ms:.0f} ms",
                        file=log,
                        flush=True,
                    )
    finally:
        assistant.generator.stream = orig
    return tally.report()


def build_shared(data_dir: Path, log: Any = None) -> dict[str, Any]:
    """Store, NLU, retriever and recommender over the demo shop in a scratch data dir."""
    from assistant.components import embedder_from_settings, indexer_from_settings, retriever_from_settings
    from assistant.settings import load_settings
    from assistant.shopindex import ShopIndex
    from assistant.threads import apply_thread_budget
    from assistant.wiring import build_reader
    from knowledge.catalog import Catalog
    from knowledge.demo import load_demo

    settings = load_settings(data_dir=data_dir, generator_backend="template")
    apply_thread_budget(settings.inference_threads)  # as build_assistant does for a server
    demo = load_demo()
    catalog = Catalog(demo.products, demo.reviews, demo.policies)
    store = fresh_store(data_dir / "bench-template.db", demo)
    indexer_from_settings(settings).update(catalog)
    shop = ShopIndex.from_catalog(catalog)
    shop.add_popularity(store)
    embedder = embedder_from_settings(settings)
    reader = build_reader(settings, list(demo.products), embedder)
    return {
        "settings": settings,
        "demo": demo,
        "catalog": catalog,
        "store": store,
        "shop": shop,
        "retriever": retriever_from_settings(settings, catalog, embedder=embedder),
        "reader": reader,
        "nlu_name": "parser",
        "recommender": _recommender(demo, log),
    }


def _recommender(demo: Any, log: Any) -> Any:
    from assistant.recsys import ShopRecommender
    from assistant.settings import load_settings

    path = load_settings().data_dir / "recommender"
    try:
        return ShopRecommender.load(path)
    except Exception:
        if log:
            print(
                f"no fitted recommender in {path}: "
                "fitting one (as `aisle train recsys` does) and saving it there",
                file=log,
                flush=True,
            )
        rec = ShopRecommender.fit(demo)
        rec.save(path)
        return rec


def fresh_store(path: Path, demo: Any) -> Any:
    """Every backend starts from the same shop: nothing one run learns (preferences, tickets) leaks
    into the next."""
    from assistant.store import Store

    store = Store(f"sqlite:///{path}")
    store.load_demo(demo)
    return store


def make_assistant(shared: dict[str, Any], backend: str, timeout_s: float | None) -> Any:
    from assistant.engine import Assistant
    from assistant.generate.base import make_chat_model
    from assistant.generate.grounding import Grounder
    from assistant.generate.runner import Generator

    base = shared["settings"]
    settings = (
        base.model_copy(update={"generator_backend": "template"})
        if backend == "template"
        else base.model_copy(update={"generator_backend": "llama", "generator_model": backend})
    )
    timeout = timeout_s or settings.generation_timeout_s
    gen = Generator(
        make_chat_model(settings),
        Grounder(shared["demo"].products),
        timeout_s=timeout,
        queue_size=settings.generation_queue,
    )
    gen.warm()
    store = (
        shared["store"]
        if backend == "template"
        else fresh_store(base.data_dir / f"bench-{backend}.db", shared["demo"])
    )
    return Assistant(
        settings,
        shop=shared["shop"],
        reader=shared["reader"],
        store=store,
        generator=gen,
        retriever=shared["retriever"],
        recommender=shared["recommender"],
        suggest=shared["reader"].resolver.suggest,
    )


def _contended(assistant: Any, name: str, convs: list[Any], n: int, quiet: dict[str, Any]) -> dict[str, Any]:
    """The same script in fresh conversations beside ``n`` busy processes, with loaded/quiet ratios
    of the quiet run just before it (one process, one run: the comparison the machine allows)."""
    from aisle.bench.contention import busy

    with busy(n):
        run = run_backend(assistant, name, convs, sys.stderr, tag=f"-busy{n}")
        load = round(os.getloadavg()[0], 2)
    print(f"{name} beside {n} busy: {json.dumps(run['result'])}", file=sys.stderr)
    ratio = {
        f"{k}.{p}": round(run["result"][k][p] / quiet[k][p], 2)
        for k in ("products_ms", "first_token_ms", "full_reply_ms")
        for p in ("p50", "p95")
        if quiet[k][p] and run["result"][k][p] is not None
    }
    return {"busy_processes": n, "loadavg_1m": load, **run["result"], "ratio_to_quiet": ratio}


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="aisle bench chat", description=__doc__)
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--backend", choices=BACKENDS, help="run only this backend (default: both)")
    ap.add_argument(
        "--timeout", type=float, help="generation timeout in seconds (default: AISLE_GENERATION_TIMEOUT_S)"
    )
    ap.add_argument("--transcript", help="also write every turn's reply to this JSON file")
    ap.add_argument(
        "--contention",
        type=int,
        default=0,
        help="play the script again beside N busy processes (started and stopped here); both figures",
    )
    ap.add_argument(
        "--demo-md", help="write the first conversation (the README demo) as Markdown, per backend"
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aisle-bench-") as tmp:
        shared = build_shared(Path(tmp), sys.stderr)
        convs = script(shared["demo"])
        out: dict[str, Any] = {
            "backends": {},
            "details": {},
            "turns": sum(len(t) for _, t in convs),
            "nlu": shared["nlu_name"],
            "recommender": type(shared["recommender"]).__name__,
        }
        for name in [args.backend] if args.backend else list(BACKENDS):
            assistant = make_assistant(shared, name, args.timeout)
            run = run_backend(assistant, name, convs, sys.stderr)
            out["backends"][name] = run["result"]
            out["details"][name] = {**run["detail"], "model": assistant.generator.model.name}
            print(f"{name}: {json.dumps(run['result'])}", file=sys.stderr)
            if args.contention:
                out.setdefault("contended", {})[name] = _contended(
                    assistant, name, convs, args.contention, run["result"]
                )
            if assistant.store is not shared["store"]:
                assistant.store.close()
        shared["store"].close()
        transcripts = {n: d.pop("transcript") for n, d in out["details"].items()}
        if args.demo_md:
            first = len(convs[0][1])
            Path(args.demo_md).write_text(
                "\n\n".join(
                    f"### {n}\n\n" + demo_markdown(t[:first], out["details"][n]["model"])
                    for n, t in transcripts.items()
                )
            )
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=2))
        if args.transcript:
            Path(args.transcript).write_text(json.dumps(transcripts, indent=2))
    print(f"wrote {args.out}")
    return 0
