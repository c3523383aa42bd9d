"""`aisle bench retrieval --out FILE.json`: lexical vs dense vs hybrid on the demo queries and on
Amazon Office known-item search, plus query latency with 10,000 review chunks indexed.

Fusion weights are chosen on the validation part of the demo queries only; figures are reported
on the test part. Writes the figures to FILE.json and the per-query rows to FILE.details.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import tempfile
import time
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.catalog import Catalog
from knowledge.retrieve import Filters, Fusion, Kind, Mode, Retriever

if TYPE_CHECKING:
    from knowledge.embed import Embedder
    from knowledge.index import IndexSummary

MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")
# The queries and the tuned fusion weights are the knowledge library's data (its retriever reads them).
BENCH_DATA = Path(str(resources.files("knowledge.bench_data")))


# ---------------------------------------------------------------- metrics (pure)


def ndcg_at(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** rel.get(i, 0) - 1) / math.log2(r + 2) for r, i in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(r + 2) for r, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], positives: set[str], k: int = 10) -> float:
    """Share of positives in the top k, over min(|positives|, k) so a perfect ranking scores 1."""
    if not positives:
        return 0.0
    return len(positives & set(ranked[:k])) / min(len(positives), k)


def mrr_at(ranked: list[str], positives: set[str], k: int = 10) -> float:
    return next((1.0 / (r + 1) for r, i in enumerate(ranked[:k]) if i in positives), 0.0)


# ---------------------------------------------------------------- helpers


class CachedEmbedder:
    """Memoises query vectors so a grid over fusion weights does not re-embed the same query."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.embed_bulk = getattr(inner, "embed_bulk", None)  # indexing takes the inner model's bulk path
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.embed(texts)
        if texts[0] not in self._cache:
            self._cache[texts[0]] = self.inner.embed(texts)[0]
        return self._cache[texts[0]][None, :]


def build_retriever(
    catalog: Catalog, embedder: Any, workdir: Path, kinds: tuple[str, ...]
) -> tuple[Retriever, list[IndexSummary]]:
    from knowledge.index import Indexer
    from knowledge.vectorstore import ChromaStore

    store = ChromaStore.embedded(str(workdir / "chroma"))
    ix = Indexer(store, embedder, workdir, progress=True)
    summaries = ix.update(catalog, kinds=kinds)
    return Retriever(catalog, embedder, store, ix.live()), summaries


def load_queries(path: Path | None = None) -> list[dict[str, Any]]:
    p = path or BENCH_DATA / "demo_queries.jsonl"
    return [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]


def eval_demo(r: Retriever, queries: list[dict[str, Any]], mode: Mode) -> dict[str, float]:
    nd, rc, mr = [], [], []
    for q in queries:
        f = q["filters"]
        filters = Filters(**{**f, "exclude_brands": tuple(f.get("exclude_brands", ()))}) if f else None
        ranked = [h.id for h in r.search(q["query"], filters, k=10, mode=mode)]
        pos = {i for i, g in q["relevance"].items() if g >= 2}
        nd.append(ndcg_at(ranked, q["relevance"]))
        rc.append(recall_at(ranked, pos))
        mr.append(mrr_at(ranked, pos))
    return {"ndcg@10": float(np.mean(nd)), "recall@10": float(np.mean(rc)), "mrr": float(np.mean(mr))}


def tune_fusion(r: Retriever, valid: list[dict[str, Any]]) -> tuple[Fusion, list[dict[str, Any]]]:
    cands = [
        Fusion("rrf", rrf_k=k, w_dense=w)
        for k in (5, 10, 20, 40, 60)
        for w in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
    ]
    cands += [
        Fusion("convex", alpha=a, lex_norm=n)
        for n in ("top", "idf")
        for a in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    ]
    grid = []
    for f in cands:
        r.fusion = f
        grid.append({**asdict(f), "ndcg@10": eval_demo(r, valid, "hybrid")["ndcg@10"]})
    best = max(range(len(grid)), key=lambda j: (round(grid[j]["ndcg@10"], 4), -j))
    return cands[best], grid


def _cpu(resource: Any) -> float:
    """CPU seconds of this process (all threads): load-independent, unlike wall time on a shared machine."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return float(ru.ru_utime + ru.ru_stime)


def office_known_item(
    embedder: Any, workdir: Path, data: Path, n_queries: int, words: int, fusion: Fusion
) -> tuple[dict[str, Any], dict[str, Any]]:
    import resource

    from knowledge.catalog import load_amazon_items

    t0, c0 = time.perf_counter(), _cpu(resource)
    products, report = load_amazon_items(data / "amazon-office" / "Office.item.json")
    cat = Catalog(products)
    r, first = build_retriever(cat, embedder, workdir, ("product",))
    ingest_s, ingest_cpu = time.perf_counter() - t0, _cpu(resource) - c0
    t1 = time.perf_counter()
    _, again = build_retriever(cat, embedder, workdir, ("product",))
    rerun_s = time.perf_counter() - t1
    r.fusion = fusion
    rng = random.Random(0)
    sample = rng.sample(products, min(n_queries, len(products)))
    out: dict[str, Any] = {}
    for mode in MODES:
        rc, mr = [], []
        for p in sample:
            q = " ".join(p.title.split()[:words])
            ranked = [h.id for h in r.search(q, k=10, mode=mode)]
            rc.append(float(p.id in ranked))
            mr.append(mrr_at(ranked, {p.id}))
        out[mode] = {"recall@10": float(np.mean(rc)), "mrr": float(np.mean(mr))}
    details = {
        "products": len(products),
        "skipped_rows": report.skipped,
        "ingest_s": round(ingest_s, 2),
        "ingest_cpu_s": round(ingest_cpu, 2),
        "loadavg": os.getloadavg(),
        "first": [asdict(s) for s in first],
        "rerun": [asdict(s) for s in again],
        "rerun_s": round(rerun_s, 2),
        "queries": len(sample),
        "query_words": words,
    }
    return out, details


# Shoppers' questions about clothing reviews, for the latency run over the review index.
REVIEW_QUERIES = (
    "runs small in the waist",
    "is the fabric see through",
    "soft and comfortable sweater",
    "true to size dress for a wedding",
    "itchy material",
    "the color faded after washing",
    "great for petite women",
    "too long for me",
    "lovely summer top",
    "zipper broke",
)


def latency(
    embedder: Any,
    workdir: Path,
    data: Path,
    demo: Catalog,
    n_chunks: int,
    fusion: Fusion,
    contention: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Review search over >= n_chunks real review chunks; p50/p95 per query, embedding included;
    with ``contention`` > 0 the same rounds again beside that many busy processes."""
    from aisle.bench.contention import side_by_side

    t0 = time.perf_counter()
    r = _latency_index(embedder, workdir, data, demo, n_chunks)
    index_s = time.perf_counter() - t0
    r.fusion = fusion
    queries = [*REVIEW_QUERIES, *(q["query"] for q in load_queries()[:40])]
    for q in queries[:5]:  # warm-up: model load and first-query caches are not steady state
        r.search(q, k=10, kind="review")
    runs = side_by_side(lambda: _time_queries(r, queries), contention)
    quiet = runs["quiet"]
    details = {
        "review_chunks": r._parts["review"].lex.ids.__len__(),
        "index_s": round(index_s, 1),
        "queries_timed": quiet.pop("queries"),
        "product_p50_ms": quiet.pop("product_p50"),
        "product_p95_ms": quiet.pop("product_p95"),
    }
    result: dict[str, Any] = dict(quiet)
    if contention:
        result["contention"] = {k: v for k, v in runs.items() if k != "quiet"}
    return result, details


def _latency_index(embedder: Any, workdir: Path, data: Path, demo: Catalog, n_chunks: int) -> Retriever:
    from knowledge.datasets import load_clothing_reviews
    from knowledge.docs import review_docs

    reviews, count = [], 0
    for review in load_clothing_reviews(
        data / "clothing-reviews" / "WomensClothingE-CommerceReviews.parquet"
    ):
        reviews.append(review)
        count += len(review_docs([review]))
        if count >= n_chunks:
            break
    # Built in slices into a kept work folder: an interrupted run resumes without re-embedding.
    for n in range(2000, len(reviews), 2000):
        build_retriever(
            Catalog(demo.products, reviews[:n], demo.policies),
            embedder,
            workdir,
            ("product", "review", "policy"),
        )
    cat = Catalog(demo.products, reviews, demo.policies)
    return build_retriever(cat, embedder, workdir, ("product", "review", "policy"))[0]


def _time_queries(r: Retriever, queries: list[str], rounds: int = 3) -> dict[str, Any]:
    times: dict[Kind, list[float]] = {"review": [], "product": []}
    for _ in range(rounds):
        for q in queries:
            for kind in times:
                t = time.perf_counter()
                r.search(q, k=10, kind=kind)
                times[kind].append((time.perf_counter() - t) * 1000)
    rv, pr = np.array(times["review"]), np.array(times["product"])
    return {
        "p50": round(float(np.percentile(rv, 50)), 2),
        "p95": round(float(np.percentile(rv, 95)), 2),
        "product_p50": round(float(np.percentile(pr, 50)), 2),
        "product_p95": round(float(np.percentile(pr, 95)), 2),
        "queries": len(rv),
    }


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="aisle bench retrieval", description=__doc__)
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--embedder", default="minilm")
    ap.add_argument("--office-queries", type=int, default=600, help="known-item queries sampled (seed 0)")
    ap.add_argument("--office-words", type=int, default=5, help="query = the first N words of the title")
    ap.add_argument("--chunks", type=int, default=10_000, help="review chunks indexed for the latency figure")
    ap.add_argument("--skip-office", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument(
        "--contention",
        type=int,
        default=0,
        help="also time the queries beside N busy processes (started and stopped here), side by side",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="intra-op threads for torch/BLAS, as a server's AISLE_INFERENCE_THREADS (default 1)",
    )
    ap.add_argument(
        "--write-fusion", action="store_true", help="save the tuned fusion weights as package data"
    )
    ap.add_argument(
        "--workdir",
        default="bench-out/retrieval-work",
        help="kept indexes for the demo and latency parts (the Office ingest is always fresh)",
    )
    return ap


def cli(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from assistant.threads import apply_thread_budget
    from knowledge.catalog import load_demo_catalog
    from knowledge.embed import make_embedder

    applied = apply_thread_budget(args.threads)
    embedder = CachedEmbedder(make_embedder(args.embedder))
    data = Path(os.environ.get("AISLE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    result: dict[str, Any] = {}
    details: dict[str, Any] = {"embedder": embedder.name, "threads": applied}
    work = Path(args.workdir)
    with tempfile.TemporaryDirectory(prefix="aisle-bench-") as tmp:
        demo = load_demo_catalog()
        r, _ = build_retriever(demo, embedder, work / "demo", ("product",))
        queries = load_queries()
        valid = [q for q in queries if q["split"] == "valid"]
        test = [q for q in queries if q["split"] == "test"]
        fusion, grid = tune_fusion(r, valid)
        r.fusion = fusion
        result["demo"] = {m: eval_demo(r, test, m) for m in MODES}
        details["demo"] = {
            "queries": len(queries),
            "valid": len(valid),
            "test": len(test),
            "fusion": asdict(fusion),
            "grid": grid,
            "valid_scores": {m: eval_demo(r, valid, m) for m in MODES},
        }
        if args.write_fusion:
            (BENCH_DATA / "fusion.json").write_text(json.dumps(asdict(fusion), indent=1) + "\n")
        if not args.skip_office:
            result["office_known_item"], details["office"] = office_known_item(
                embedder, Path(tmp) / "office", data, args.office_queries, args.office_words, fusion
            )
        if not args.skip_latency:
            # A fresh embedder: the cache would hide the per-query embedding cost we must include.
            fresh = make_embedder(args.embedder)
            if hasattr(fresh, "CACHE_SIZE"):  # its LRU of recent texts would answer the repeated rounds
                fresh.CACHE_SIZE = 0
            result["latency_ms"], details["latency"] = latency(
                fresh, work / "latency", data, demo, args.chunks, fusion, args.contention
            )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".details.json").write_text(json.dumps(details, indent=1, default=str) + "\n")
    print(json.dumps(result, indent=1))
    return 0
