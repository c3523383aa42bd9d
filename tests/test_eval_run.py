"""`aisle eval` end to end: a small fake engine with known behaviour (fast), then the real engine
with the template backend on the smoke suite."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.events import Citation, Done, ProductCard, Products, TextDelta, Understood
from eval.run import cli

SUITE = """
suite: fake
conversations:
  - id: f-headphones
    turns:
      - user: "wireless headphones under $100"
        expect: {intent: recommend, products: {category: Headphones, price_max: 100}}
      - user: "actually under $50"
        expect: {products: {category: Headphones, price_max: 50}}
  - id: f-order
    turns:
      - user: "Where is ORD-112350? owen.thomas@example.com"
        expect: {intent: order_status, must_include: [UPS], cite: {kind: order, id: ORD-112350}}
  - id: f-lies
    turns:
      - user: "show me headphones, any flagship deal?"
        expect: {products: {category: Headphones, brands: [Sony]}}
  - id: f-person
    turns:
      - user: "I want to talk to a person"
        expect: {intent: human_agent, handoff: true}
"""


class FakeEngine:
    """Keyword rules over the demo shop. It lies on purpose when asked for a 'flagship deal'."""

    def __init__(self) -> None:
        from knowledge.demo import load_demo

        shop = load_demo()
        self.products, self.orders = shop.products, {o["id"]: o for o in shop.orders}
        self.leaves = sorted({p.leaf_category for p in shop.products}, key=len, reverse=True)
        self.state: dict[str, dict[str, Any]] = {}

    def stream(self, session_id: str, text: str, customer_id: str | None = None) -> Iterator[Any]:
        st = self.state.setdefault(session_id, {})
        low = text.lower()
        if m := re.search(r"ORD-\d{6}", text):
            email = re.search(r"\S+@\S+", text)
            o = self.orders.get(m.group())
            yield Understood(["order_status"], 0.9, {"order_ids": [m.group()]}, "neutral", "order_status")
            if o and email and o["email"] == email.group():
                yield Done(
                    f"Order {o['id']} is {o['status']}, shipped with {o['carrier']}.",
                    [Citation("order", o["id"])],
                    ["order_status"],
                    "fake",
                )
            else:
                yield Done("I couldn't find that order.", [], ["order_status"], "fake")
            return
        if "person" in low or "human" in low:
            yield Understood(["human_agent"], 0.9, {}, "neutral", "handoff")
            yield Done("Passing you to a person.", [], ["handoff"], "fake")
            return
        leaf = next((x for x in self.leaves if x.lower() in low), st.get("leaf"))
        if leaf is None:
            yield Understood(["out_of_scope"], 0.5, {}, "neutral", "out_of_scope")
            yield Done("I can help with shopping.", [], ["out_of_scope"], "fake")
            return
        st["leaf"] = leaf
        if m := re.search(r"under \$(\d+)", low):
            st["pmax"] = float(m.group(1))
        ps = sorted(
            (
                p
                for p in self.products
                if p.leaf_category == leaf and p.price is not None and p.price <= st.get("pmax", 1e9)
            ),
            key=lambda p: p.price,
        )[:3]
        yield Understood(
            ["recommend"], 0.9, {"categories": [leaf], "price_max": st.get("pmax")}, "neutral", "recommend"
        )
        yield Products(
            [ProductCard(p.id, p.title, p.price, "USD", p.rating, "cheap", p.brand, p.category) for p in ps]
        )
        text_out = " ".join(f"{p.title} costs ${p.price:.2f}." for p in ps)
        if "flagship" in low:
            text_out += " The Sony WH-1000XM5 is the flagship. Today only $1.00!"
        yield TextDelta(text_out)
        yield Done(text_out, [], ["recommend"], "fake")


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    p = tmp_path / "fake.yaml"
    p.write_text(SUITE)
    return p


def test_fake_engine_run_metrics_report_and_baseline(tmp_path: Path, suite_file: Path) -> None:
    out = tmp_path / "out"
    rc = cli(
        ["--suite", str(suite_file), "--simulated", "3", "--quiet", "--out", str(out)], engine=FakeEngine()
    )
    assert rc == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in (
        "task_success",
        "constraint_satisfaction",
        "groundedness",
        "unknown_products",
        "wrong_prices",
        "simulator",
        "latency_ms",
    ):
        assert key in m
    assert m["conversations"] == 4 and m["turns"] == 5
    assert m["task_success"] == pytest.approx(3 / 4)  # only the lying conversation fails
    assert m["unknown_products"] == 1 and m["wrong_prices"] == 1
    assert m["handoff"]["precision"] == 1.0 and m["handoff"]["recall"] == 1.0
    assert m["stages"]["intent_accuracy"] == 1.0
    assert 0 < m["constraint_satisfaction"] < 1  # the lying turn shows non-Sony headphones
    assert m["simulator"]["n"] == 3 and "success@5" in m["simulator"] and m["simulator"]["per_category"]
    assert m["latency_ms"]["full_reply"]["n"] >= 5

    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3  # standalone: plots embedded
    assert "f-lies" in html and "flagship" in html  # worst failure with its transcript
    md = (out / "report.md").read_text()
    assert "![headline](plots/headline.png)" in md and (out / "plots" / "headline.png").stat().st_size > 1000
    assert "per category" in md

    # regression gate: a better baseline fails the run, the same baseline passes
    better = dict(m, task_success=1.0)
    (tmp_path / "better.json").write_text(json.dumps(better))
    rc = cli(
        [
            "--suite",
            str(suite_file),
            "--simulated",
            "0",
            "--quiet",
            "--baseline",
            str(tmp_path / "better.json"),
            "--out",
            str(tmp_path / "o2"),
        ],
        engine=FakeEngine(),
    )
    assert rc == 1
    regs = json.loads((tmp_path / "o2" / "regressions.json").read_text())
    assert [r["metric"] for r in regs] == ["task_success"]
    rc = cli(
        [
            "--suite",
            str(suite_file),
            "--simulated",
            "0",
            "--quiet",
            "--baseline",
            str(out / "metrics.json"),
            "--out",
            str(tmp_path / "o3"),
        ],
        engine=FakeEngine(),
    )
    assert rc == 0


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        cli(["--baseline", str(tmp_path / "missing.json"), "--out", str(tmp_path)])
    assert exc.value.code == 2


@pytest.mark.slow
def test_real_engine_smoke_suite_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real engine (template backend; MiniLM, which the trained NLU needs) on the smoke suite, in a
    sandbox. The recommender's content model uses the hashing embedder to keep the setup short."""
    from assistant.errors import ModelMissingError

    for key in [k for k in __import__("os").environ if k.startswith("AISLE_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "smoke"
    try:
        rc = cli(
            [
                "--suite",
                "smoke",
                "--backend",
                "template",
                "--recsys-embedder",
                "hashing",
                "--simulated",
                "2",
                "--quiet",
                "--out",
                str(out),
            ]
        )
    except ModelMissingError as exc:
        pytest.skip(f"the engine's trained NLU models are missing: {exc}")
    assert rc == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["conversations"] == 8 and m["engine_errors"] == 0
    assert m["backends"] and set(m["backends"]) <= {"template"}
    assert m["simulator"]["n"] == 2
    assert (out / "report.html").is_file() and not (
        tmp_path / ".aisle"
    ).exists()  # nothing outside the sandbox
