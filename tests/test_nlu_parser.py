"""The learned command parser: its generated corpus, its training loop, and the shipped model reading
real requests end to end (MiniLM on the CPU, about a second to load)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop

from assistant.nlu.commands import COMMAND_TYPES, TAGS, FindProducts, Rank, Refine
from assistant.nlu.corpus import generate
from assistant.nlu.read import Context
from assistant.nlu.resolve import Resolver
from assistant.nlu.spans import decode, first_pieces, word_tags, words
from assistant.nlu.vocab import ShopVocab
from knowledge.constraints import Bound
from knowledge.demo import load_demo


@pytest.fixture(scope="module")
def vocab() -> ShopVocab:
    return ShopVocab(load_demo().products)


def test_corpus_is_seeded_labelled_and_aligned(vocab: ShopVocab) -> None:
    a, b = generate(vocab, 300, seed=3), generate(vocab, 300, seed=3)
    assert [e.text for e in a] == [e.text for e in b]
    kinds = {c for e in a for c in e.commands}
    assert kinds <= set(COMMAND_TYPES) and {"FindProducts", "Refine", "Rank", "OrderStatus"} <= kinds
    for e in a:
        assert all(0 <= s < t <= len(e.text) and tag in TAGS for s, t, tag in e.spans), e
        assert set(e.context.split()) <= {"list", "asked", "order", "policy"}


def test_word_labels_round_trip(vocab: ShopVocab) -> None:
    """Every tagged word comes back as a span over the same words when its labels are decoded."""
    for e in generate(vocab, 200, seed=5):
        ws = words(e.text)
        tags = word_tags(e.text, e.spans)
        offsets = [(a, b) for a, b in ws]  # one piece per word is enough to test the decoder
        got = {(s, t) for s, _, t, _ in decode(e.text, offsets, tags)}
        assert {(ws[i][0], t.split("-", 1)[1]) for i, t in enumerate(tags) if t.startswith("B-")} <= got
        assert first_pieces(offsets, e.text) == list(range(len(ws)))


def test_training_runs_end_to_end_on_a_tiny_corpus(vocab: ShopVocab, tmp_path: Path) -> None:
    from assistant.nlu.parser import FastParser
    from assistant.nlu.train_parser import TrainConfig, fit

    report = fit(vocab, TrainConfig(n=96, epochs=1, batch=32, threads=1), tmp_path, progress=False)
    assert report["steps"] >= 1 and 0.0 <= report["dev"]["command_exact"] <= 1.0
    p = FastParser(tmp_path).parse("wireless headphones under $150", "list")
    assert set(p.commands) == set(COMMAND_TYPES) and all(0.0 <= v <= 1.0 for v in p.commands.values())


@pytest.fixture(scope="module")
def reader(demo_shop: DemoShop):  # noqa: ANN201
    """The shipped parser (loaded once a session) and a resolver over the demo shop."""
    return demo_shop.reader()


def test_the_shipped_parser_reads_a_full_request(reader) -> None:  # noqa: ANN001
    got = reader.read("wireless headphones under $150, not Sony").commands
    find = next(c for c in got if isinstance(c, FindProducts))
    c = find.constraints
    assert c.categories == ("Headphones",) and c.price == Bound(None, 150.0) and c.exclude_brands == ("Sony",)
    assert c.attributes.get("connectivity") == ("wireless",)


def test_follow_ups_depend_on_what_is_on_screen(reader) -> None:  # noqa: ANN001
    listed = Context(("Headphones",), listed=True)
    assert any(
        isinstance(c, Refine) and c.relative for c in reader.read("something cheaper", listed).commands
    )
    rank = next(c for c in reader.read("which one is the lightest?", listed).commands if isinstance(c, Rank))
    assert (rank.attribute, rank.direction) == ("weight_g", "min")


@pytest.mark.parametrize(
    "text", ["", "   ", "\x00\x01", "🙂" * 50, "a" * 5000, "ORD-" * 300, "€€€ ¥¥ 😀 ñandú"]
)
def test_odd_input_never_raises(reader, text: str) -> None:  # noqa: ANN001
    assert reader.read(text).commands


@pytest.fixture(scope="module")
def minilm() -> Callable[[list[str]], Any]:
    """The packaged MiniLM's embed function, loaded once for the module."""
    from knowledge.embed import make_embedder

    return make_embedder("minilm").embed


@pytest.mark.parametrize(
    ("question", "cat", "want"),
    [
        ("what does it weigh", "Headphones", "weight_g"),
        ("how much is the first one?", "Board Games", "price"),
        ("is it waterproof", "Speakers", "water_resistance"),
        ("is it comfy", "Headphones", None),  # no attribute says that: the reviews answer it
    ],
)
def test_a_question_without_aspect_words_finds_its_attribute(
    vocab: ShopVocab, minilm: Callable[[list[str]], Any], question: str, cat: str, want: str | None
) -> None:
    r = Resolver(vocab, embed=minilm)
    assert r.asked_attribute(question, (cat,)) == want


def test_the_corpus_is_the_same_in_every_process() -> None:
    """Set order changes with PYTHONHASHSEED; the generated corpus (and so a retrained parser) must not."""
    import os
    import subprocess
    import sys

    code = (
        "import hashlib; from assistant.nlu.corpus import generate;"
        " from assistant.nlu.vocab import ShopVocab;"
        "from knowledge.demo import load_demo; v = ShopVocab(load_demo().products);"
        "print(hashlib.sha256(repr([(e.text, e.spans) for e in generate(v, 1500, seed=2)])"
        ".encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("0", "1")
    }
    assert len(digests) == 1
