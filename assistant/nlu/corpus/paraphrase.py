"""Paraphrases of generated messages, written once offline by the local LLM and shipped as data
(``paraphrases.jsonl``): the same request and slot values in other words, so the parser does not
learn the templates' phrasing alone.

``python -m assistant.nlu.corpus.paraphrase --n 800 --model PATH.gguf`` (minutes per hundred on a
CPU). The model must keep every quoted value verbatim; a paraphrase whose values cannot all be
found again exactly once is dropped, as is one that repeats its source.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

from assistant.nlu.corpus.builder import Example

OUT = Path(__file__).resolve().parent / "paraphrases.jsonl"
PROMPT = (
    "Rewrite this message from a shopper to an online shop the way a different person might type it: "
    "change the wording and word order, keep the meaning, keep it short and casual. Keep these exact "
    "words unchanged: {values}. Reply with the rewritten message only.\nMessage: {text}"
)


def relocate(text: str, ex: Example) -> Example | None:
    """The source's spans found again in the paraphrase (each value exactly once), else None."""
    spans = []
    low = text.lower()
    for s, e, tag in ex.spans:
        value = ex.text[s:e].lower()
        hits = [m.start() for m in re.finditer(re.escape(value), low)]
        if len(hits) != 1:
            return None
        spans.append((hits[0], hits[0] + len(value), tag))
    if len({(a, b) for a, b, _ in spans}) != len(spans):
        return None
    return Example(text, sorted(spans), ex.commands, ex.topic, ex.privacy, ex.chat, "paraphrase")


def paraphrase(llm: Any, ex: Example, seed: int) -> Example | None:
    values = ", ".join(f'"{ex.text[s:e]}"' for s, e, _ in ex.spans) or "(none)"
    out = llm.create_chat_completion(
        messages=[{"role": "user", "content": PROMPT.format(values=values, text=ex.text)}],
        max_tokens=48,
        temperature=0.9,
        top_p=0.95,
        seed=seed,
    )
    text = " ".join(str(out["choices"][0]["message"]["content"] or "").strip().strip('"').split())
    if not text or text.lower() == ex.text.lower() or len(text) > 3 * len(ex.text) + 40:
        return None
    return relocate(text, ex)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--model", type=Path, required=True, help="a GGUF chat model (the default generator works)"
    )
    ap.add_argument("--n", type=int, default=800, help="source messages to paraphrase")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    from llama_cpp import Llama

    from assistant.nlu.corpus import generate
    from assistant.nlu.vocab import ShopVocab
    from knowledge.demo import load_demo

    llm = Llama(model_path=str(args.model), n_threads=args.threads, n_ctx=1024, seed=args.seed, verbose=False)
    sources = generate(ShopVocab(load_demo().products), args.n * 2, seed=args.seed)
    random.Random(args.seed).shuffle(sources)
    kept = 0
    with args.out.open("a", encoding="utf-8") as fh:
        for i, ex in enumerate(sources[: args.n]):
            got = paraphrase(llm, ex, args.seed + i)
            if got is not None:
                fh.write(json.dumps(got.to_dict()) + "\n")
                fh.flush()
                kept += 1
    print(f"kept {kept} of {args.n} paraphrases in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
