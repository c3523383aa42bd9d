"""The output guard: prompt leaks, PII the shopper did not type, and markup stop a model's answer."""

from __future__ import annotations

from pathlib import Path

from conftest import DemoShop

from assistant.events import TextDelta
from assistant.generate.base import FakeChatModel
from assistant.generate.prompts import PromptSet
from assistant.outguard import OutputGuard

SYSTEM = PromptSet("answer").render("system")


def test_problems() -> None:
    og = OutputGuard(SYSTEM)
    assert og.problems("The Sonara Kite X costs $49.99 and is rated 3.6/5.") == []
    leak = " ".join(SYSTEM.split()[:12])
    assert og.problems(f"Sure. {leak}") == ["prompt_leak"]
    assert (
        og.problems("If you want to spend less, the Dash costs $64.99.") == []
    )  # the example's phrasing is fine
    assert og.problems("Ask ann@example.com about it") == ["pii"]
    assert og.problems("I'll look up ann@example.com", allowed="my email is ann@example.com") == []
    assert og.problems("call +1 555 123 4567") == ["pii"]
    assert og.problems('<img src=x onerror="alert(1)">') == ["markup"]
    assert og.problems("<script>x</script>") == ["markup"]


def test_generator_drops_a_leaking_answer_mid_stream(tmp_path: Path, demo_shop: DemoShop) -> None:
    words = " ".join(SYSTEM.split()[:40])
    bot = demo_shop.assistant(tmp_path / "o.db", FakeChatModel([f"Of course! {words}"]), timeout_s=5)
    evs = list(bot.stream("o1", "wireless headphones under $150"))
    streamed = "".join(e.text for e in evs if isinstance(e, TextDelta))
    done = evs[-1]
    assert done.backend == "template" and "fallback:unsafe" in done.actions
    assert OutputGuard(SYSTEM).problems(done.text) == []
    assert len(streamed.split()) < 12  # the stream stopped within a few words of the leak


def test_shop_contact_from_a_quoted_policy_is_allowed(tmp_path: Path, demo_shop: DemoShop) -> None:
    from assistant.generate.facts import Facts
    from assistant.shopindex import Snip

    bot = demo_shop.assistant(tmp_path / "p.db")
    facts = Facts(
        "policy_qa",
        "how do I delete my data?",
        snippets=[Snip("privacy", "policy", "Write to privacy@aisle-demo.example to delete your data.")],
    )
    assert bot.generator._unsafe("Email privacy@aisle-demo.example [privacy].", facts) == []
    assert bot.generator._unsafe("Email boss@evil.example.", facts) == ["pii"]
