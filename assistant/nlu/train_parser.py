"""`aisle train parser`: fit the fast command parser for one shop's catalog.

The corpus is generated from the catalog's own vocabulary (assistant.nlu.corpus), plus the
paraphrases the local LLM wrote once offline and the Bitext support sample when it is present.
Hyper-parameters and the confidence threshold are chosen on a held-out slice of that corpus and on
the hand-written dev set (eval/nlu/commands_dev.jsonl) when it exists; test files are never read here.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from assistant.nlu import net as N
from assistant.nlu.commands import COMMAND_TYPES
from assistant.nlu.corpus import Example, generate
from assistant.nlu.spans import IGNORE, bio_labels
from assistant.nlu.vocab import ShopVocab

log = logging.getLogger(__name__)
MAX_LEN = 64


@dataclass
class TrainConfig:
    n: int = 24000  # generated messages
    epochs: int = 4
    batch: int = 32
    lr: float = 1e-3
    r: int = 16
    adapt_from: int = 2  # layers from here up get adapters; the ones below are frozen and cached
    seed: int = 13
    threads: int = 2
    bitext: Path | None = None
    paraphrases: Path | None = None


def corpus(vocab: ShopVocab, cfg: TrainConfig) -> list[Example]:
    out = generate(vocab, cfg.n, cfg.seed)
    if cfg.bitext is not None and cfg.bitext.is_file():
        from assistant.nlu.corpus.support import bitext

        out += bitext(cfg.bitext)
    if cfg.paraphrases is not None and cfg.paraphrases.is_file():
        with cfg.paraphrases.open(encoding="utf-8") as fh:
            out += [Example.from_dict(json.loads(line)) for line in fh if line.strip()]
    return out


@dataclass
class Encoded:
    """One message, tokenized once, with the frozen lower layers' output cached (fp16)."""

    ex: Example
    ids: torch.Tensor
    offsets: list[tuple[int, int]]
    lower: torch.Tensor | None = None


def encode_all(tok: Any, net: N.ParserNet, data: list[Example], batch: int = 64) -> list[Encoded]:
    out = []
    for e in data:
        ids, offsets = N.encode(tok, e.context, e.text, MAX_LEN)
        out.append(Encoded(e, torch.tensor(ids), offsets))
    order = sorted(range(len(out)), key=lambda i: len(out[i].ids))
    net.eval()
    for i in range(0, len(order), batch):
        items = [out[j] for j in order[i : i + batch]]
        ids_t, mask = _pad([x.ids for x in items])
        h = net.lower(ids_t, mask)
        for k, x in enumerate(items):
            x.lower = h[k, : len(x.ids)].to(torch.float16)
    return out


def _pad(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), n, dtype=torch.long)
    mask = torch.zeros(len(seqs), n, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
        mask[i, : len(s)] = 1
    return ids, mask


def _labels(batch: list[Encoded], n: int) -> dict[str, torch.Tensor]:
    index = {lab: i for i, lab in enumerate(N.BIO)}
    tags = torch.full((len(batch), n), IGNORE, dtype=torch.long)
    for i, x in enumerate(batch):
        if x.ex.tagged:
            tags[i, : len(x.offsets)] = torch.tensor(bio_labels(x.offsets, x.ex.text, x.ex.spans, index))
    cmds = torch.zeros(len(batch), len(COMMAND_TYPES))
    for i, x in enumerate(batch):
        for c in x.ex.commands:
            cmds[i, COMMAND_TYPES.index(c)] = 1.0
    heads = {
        k: torch.tensor([labels.index(v) if (v := getattr(x.ex, k)) in labels else IGNORE for x in batch])
        for k, labels in N.HEADS.items()
    }
    return {"tags": tags, "cmds": cmds, **heads}


def _upper_batch(
    net: N.ParserNet, batch: list[Encoded]
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    n = max(len(x.ids) for x in batch)
    h = torch.zeros(len(batch), n, batch[0].lower.shape[-1])  # type: ignore[union-attr]
    mask = torch.zeros(len(batch), n, dtype=torch.long)
    for i, x in enumerate(batch):
        assert x.lower is not None
        h[i, : len(x.ids)] = x.lower.float()
        mask[i, : len(x.ids)] = 1
    return net.upper(h, mask), _labels(batch, n)


def _batches(data: list[Encoded], size: int, rng: random.Random) -> Iterator[list[Encoded]]:
    """Batches of similar length (less padding), in random order."""
    order = sorted(range(len(data)), key=lambda i: (len(data[i].ids) // 4, rng.random()))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    for ch in chunks:
        yield [data[i] for i in ch]


_TAG_WEIGHTS = torch.tensor([1.0] + [3.0] * (len(N.BIO) - 1))  # a slot word counts 3x an "O" word


def _loss(out: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> torch.Tensor:
    ce = nn.CrossEntropyLoss(ignore_index=IGNORE)
    loss = nn.CrossEntropyLoss(ignore_index=IGNORE, weight=_TAG_WEIGHTS)(
        out["tok"].flatten(0, 1), b["tags"].flatten()
    )
    loss = loss + nn.functional.binary_cross_entropy_with_logits(out["cmd"], b["cmds"])
    for k in N.HEADS:
        if (b[k] != IGNORE).any():
            loss = loss + 0.5 * ce(out[k], b[k])
    total: torch.Tensor = loss
    return total


def fit(vocab: ShopVocab, cfg: TrainConfig, out_dir: Path, progress: bool = True) -> dict[str, Any]:
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = random.Random(cfg.seed)
    data = corpus(vocab, cfg)
    rng.shuffle(data)
    tok, enc = N.load_encoder()
    net = N.ParserNet(enc, r=cfg.r, adapt_from=cfg.adapt_from)
    t0 = time.perf_counter()
    encoded = encode_all(tok, net, data)
    n_dev = max(1, min(len(encoded) // 5, max(200, len(encoded) // 25)))  # a tiny corpus still trains
    dev, train = encoded[:n_dev], encoded[n_dev:]
    log.info("encoded %d messages in %.0f s", len(encoded), time.perf_counter() - t0)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    steps = cfg.epochs * ((len(train) + cfg.batch - 1) // cfg.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1)
    step = 0
    for epoch in range(cfg.epochs):
        net.train()
        for batch in _batches(train, cfg.batch, rng):
            out, labels = _upper_batch(net, batch)
            loss = _loss(out, labels)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if progress and step % 100 == 0:
                log.info(
                    "epoch %d step %d/%d loss %.4f (%.0f s)",
                    epoch + 1,
                    step,
                    steps,
                    float(loss.detach()),
                    time.perf_counter() - t0,
                )
    report = {
        "examples": len(train),
        "dev_examples": len(dev),
        "steps": step,
        "train_s": round(time.perf_counter() - t0, 1),
        "dev": evaluate(net, dev),
    }
    N.save(
        net,
        out_dir,
        {
            "config": {k: str(v) for k, v in vars(cfg).items()},
            "report": report,
            "vocab_categories": sorted(vocab.categories),
        },
    )
    return report


@torch.no_grad()
def evaluate(net: N.ParserNet, data: list[Encoded]) -> dict[str, float]:
    """Command-set exact match and token-tag accuracy on generated held-out messages."""
    net.eval()
    exact = n = tok_ok = tok_n = 0
    for i in range(0, len(data), 64):
        out, b = _upper_batch(net, data[i : i + 64])
        pred = torch.sigmoid(out["cmd"]) >= 0.5
        exact += int((pred == b["cmds"].bool()).all(1).sum())
        n += len(data[i : i + 64])
        mask = b["tags"] != IGNORE
        tok_ok += int((out["tok"].argmax(-1)[mask] == b["tags"][mask]).sum())
        tok_n += int(mask.sum())
    return {"command_exact": round(exact / max(n, 1), 4), "tag_accuracy": round(tok_ok / max(tok_n, 1), 4)}


def cli(argv: list[str]) -> int:
    """`aisle train parser [--out DIR] [--n N] [--epochs E] [--demo]`."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="aisle train parser", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--demo", action="store_true", help="train for the built-in demo shop (the packaged parser)"
    )
    ap.add_argument(
        "--out",
        type=Path,
        help="output folder (default: <data_dir>/parser, or the package's artifacts for --demo)",
    )
    ap.add_argument("--n", type=int, default=TrainConfig.n, help="generated training messages")
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--threads", type=int, default=TrainConfig.threads, help="torch threads")
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", force=True)
    from assistant.nlu.parser import ARTIFACTS
    from assistant.settings import Settings

    settings = Settings()
    if args.demo:
        from knowledge.demo import load_demo

        products, out = list(load_demo().products), args.out or ARTIFACTS
    else:
        from knowledge.snapshot import load_catalog

        products, out = (
            list(load_catalog(settings.data_dir).products),
            args.out or settings.data_dir / "parser",
        )
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    cfg = TrainConfig(
        n=args.n,
        epochs=args.epochs,
        threads=args.threads,
        seed=args.seed,
        bitext=shared / "bitext-support" / "Bitext_Sample_Customer_Support_Training_Dataset_3.5MB.csv",
        paraphrases=Path(__file__).resolve().parent / "corpus" / "paraphrases.jsonl",
    )
    report = fit(ShopVocab(products), cfg, out)
    print(json.dumps(report, indent=1))
    print(f"parser written to {out}")
    return 0
