"""report.html (standalone: plots embedded as base64 PNG) and report.md (plots beside it)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def headline(m: dict[str, Any]) -> list[tuple[str, Any]]:
    st, sim = m.get("stages", {}), m.get("simulator", {})
    lat = m.get("latency_ms", {})
    return [
        ("task success", m.get("task_success")),
        ("turn pass rate", m.get("turn_pass_rate")),
        ("constraint satisfaction", m.get("constraint_satisfaction")),
        ("groundedness", m.get("groundedness")),
        ("unknown products", m.get("unknown_products")),
        ("wrong prices", m.get("wrong_prices")),
        ("wrong ratings", m.get("wrong_ratings")),
        ("intent accuracy", st.get("intent_accuracy")),
        ("entity F1", st.get("entity_f1")),
        ("retrieval nDCG@5", st.get("retrieval_ndcg@5")),
        ("recommendation hit rate (first list)", st.get("recommendation_hit_rate")),
        ("hand-off precision", m.get("handoff", {}).get("precision")),
        ("hand-off recall", m.get("handoff", {}).get("recall")),
        ("simulator success@5", sim.get("success@5")),
        ("simulator turns to success", sim.get("turns_to_success")),
        ("simulator recall@5", sim.get("recall@5")),
        ("p50 / p95 products ms", _pair(lat.get("products"))),
        ("p50 / p95 first token ms", _pair(lat.get("first_token"))),
        ("p50 / p95 full reply ms", _pair(lat.get("full_reply"))),
    ]


def _pair(d: dict[str, Any] | None) -> str:
    if not d or d.get("p50") is None:
        return "n/a"
    return f"{d['p50']:.0f} / {d['p95']:.0f}"


def plots(m: dict[str, Any], records_ms: dict[str, list[float]]) -> dict[str, bytes]:
    """name -> PNG bytes. matplotlib is imported here only (Agg: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, bytes] = {"headline": _headline_plot(plt, m)}
    suites = m.get("per_suite", {})
    if suites:
        out["suites"] = _suites_plot(plt, suites)
    sim = m.get("simulator", {})
    if sim.get("per_category", {}):
        out["simulator"] = _simulator_plot(plt, sim)
    series = {k: v for k, v in records_ms.items() if v}
    if series:
        out["latency"] = _latency_plot(plt, series)
    fails = m.get("check_failures", {})
    if fails:
        out["failures"] = _failures_plot(plt, fails)
    return out


def _png(plt: Any, fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _headline_plot(plt: Any, m: dict[str, Any]) -> bytes:
    st, sim = m.get("stages", {}), m.get("simulator", {})
    bars = [
        ("task success", m.get("task_success")),
        ("constraints", m.get("constraint_satisfaction")),
        ("grounded", m.get("groundedness")),
        ("intent acc", st.get("intent_accuracy")),
        ("entity F1", st.get("entity_f1")),
        ("nDCG@5", st.get("retrieval_ndcg@5")),
        ("handoff P", m.get("handoff", {}).get("precision")),
        ("handoff R", m.get("handoff", {}).get("recall")),
        ("sim success@5", sim.get("success@5")),
    ]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    names, vals = [b[0] for b in bars], [b[1] or 0.0 for b in bars]
    ax.bar(names, vals, color="#4c72b0")
    for i, v in enumerate(bars):
        ax.text(i, (v[1] or 0) + 0.02, _fmt(v[1]), ha="center", fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_title("Headline metrics")
    ax.tick_params(axis="x", rotation=35, labelsize=8)
    return _png(plt, fig)


def _suites_plot(plt: Any, suites: dict[str, Any]) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(
        list(suites),
        [v["task_success"] or 0 for v in suites.values()],
        color="#55a868",
        label="conversations",
    )
    ax.barh(
        list(suites),
        [v["turn_pass_rate"] or 0 for v in suites.values()],
        color="none",
        edgecolor="black",
        label="turns",
    )
    ax.set_xlim(0, 1)
    ax.set_title("Pass rate per suite (filled: conversations, outline: turns)")
    return _png(plt, fig)


def _simulator_plot(plt: Any, sim: dict[str, Any]) -> bytes:
    cats = sim["per_category"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4))
    ns = sorted(int(k.split("@")[1]) for k in sim if k.startswith("success@"))
    a1.plot(ns, [sim[f"success@{n}"] or 0 for n in ns], marker="o")
    a1.set_ylim(0, 1)
    a1.set_xlabel("shopper turns N")
    a1.set_title("Simulated shoppers: success@N")
    a2.bar(list(cats), [v.get("success@5") or 0 for v in cats.values()], color="#c44e52")
    for i, v in enumerate(cats.values()):
        a2.text(i, (v.get("success@5") or 0) + 0.02, f"n={v['n']}", ha="center", fontsize=7)
    a2.set_ylim(0, 1.1)
    a2.set_title("success@5 per category")
    a2.tick_params(axis="x", rotation=35, labelsize=8)
    return _png(plt, fig)


def _latency_plot(plt: Any, series: dict[str, list[float]]) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.boxplot(list(series.values()), showfliers=True)
    ax.set_xticks(range(1, len(series) + 1), list(series))
    ax.set_yscale("log")
    ax.set_ylabel("ms (log)")
    ax.set_title("Latency per turn")
    return _png(plt, fig)


def _failures_plot(plt: Any, fails: dict[str, Any]) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    items = list(fails.items())[:12]
    ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="#8172b2")
    ax.set_title("Failed checks by kind")
    return _png(plt, fig)


def _worst(transcripts: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    failed = [t for t in transcripts if not t["passed"]]
    return sorted(failed, key=lambda t: -sum(len(x["failures"]) for x in t["turns"]))[:n]


def write(
    out: Path,
    m: dict[str, Any],
    transcripts: list[dict[str, Any]],
    records_ms: dict[str, list[float]],
    dialogues: list[dict[str, Any]] | None = None,
    worst: int = 10,
) -> dict[str, Path]:
    """Write report.html, report.md and plots/*.png into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    pngs = plots(m, records_ms)
    (out / "plots").mkdir(exist_ok=True)
    for name, data in pngs.items():
        (out / "plots" / f"{name}.png").write_bytes(data)
    rows = headline(m)
    bad = _worst(transcripts, worst)
    failed = sum(1 for t in transcripts if not t["passed"])
    (out / "report.md").write_text(_markdown(m, rows, pngs, bad, failed), encoding="utf-8")
    (out / "report.html").write_text(_html(m, rows, pngs, bad, failed, dialogues), encoding="utf-8")
    return {"html": out / "report.html", "md": out / "report.md"}


def _markdown(
    m: dict[str, Any],
    rows: list[tuple[str, Any]],
    pngs: dict[str, bytes],
    bad: list[dict[str, Any]],
    failed: int,
) -> str:
    """report.md: the headline table, the plots beside it, simulated shoppers per category,
    the worst failures."""
    sim = m.get("simulator", {})
    md = [
        f"# Aisle evaluation report\n\nbackend: `{m.get('backend')}` · "
        f"suites: {', '.join(m.get('suites', []))} · "
        f"{m.get('conversations')} conversations, {m.get('turns')} turns · "
        f"simulated shoppers: {sim.get('n', 0)}\n",
        "| metric | value |",
        "|---|---|",
    ]
    md += [f"| {k} | {_fmt(v)} |" for k, v in rows]
    md.append("")
    md += [f"![{name}](plots/{name}.png)\n" for name in pngs]
    if sim.get("per_category"):
        md += [
            "## Simulated shoppers per category",
            "",
            "| category | n | success@1 | success@3 | success@5 | recall@5 |",
            "|---|---|---|---|---|---|",
        ]
        md += [
            f"| {c} | {v['n']} | {_fmt(v.get('success@1'))} | {_fmt(v.get('success@3'))} | "
            f"{_fmt(v.get('success@5'))} | {_fmt(v.get('recall@5'))} |"
            for c, v in sim["per_category"].items()
        ]
        md.append("")
    md += [f"## Worst failures ({len(bad)} of {failed} failed conversations)", ""]
    for t in bad:
        md.append(
            f"### {t['id']} ({t['suite']})" + (f" · customer {t['customer_id']}" if t["customer_id"] else "")
        )
        for x in t["turns"]:
            md.append(f"- **shopper:** {x['user']}")
            md.append(f"  - intents {x['intents']} · action `{x['action']}` · backend {x['backend']}")
            if x["cards"]:
                md.append("  - cards: " + "; ".join(x["cards"]))
            md.append("  - **aisle:** " + x["reply"].replace("\n", " ")[:600])
            for f in x["failures"]:
                md.append(f"  - FAIL {f}")
        md.append("")
    return "\n".join(md)


def _html(
    m: dict[str, Any],
    rows: list[tuple[str, Any]],
    pngs: dict[str, bytes],
    bad: list[dict[str, Any]],
    failed: int,
    dialogues: list[dict[str, Any]] | None,
) -> str:
    """report.html, standalone: the same sections with the plots embedded, and the first simulated misses."""
    sim = m.get("simulator", {})
    e = html.escape
    h = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Aisle evaluation</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        ".fail{color:#b00}.turn{margin:0 0 .6em 1em}.bot{color:#135}</style></head><body>",
        f"<h1>Aisle evaluation report</h1><p>backend <code>{e(str(m.get('backend')))}</code> · suites "
        f"{e(', '.join(m.get('suites', [])))} · "
        f"{m.get('conversations')} conversations, {m.get('turns')} turns · "
        f"simulated shoppers {sim.get('n', 0)}</p>",
        "<table><tr><th>metric</th><th>value</th></tr>",
    ]
    h += [f"<tr><td>{e(k)}</td><td>{e(_fmt(v))}</td></tr>" for k, v in rows]
    h.append("</table>")
    for name, data in pngs.items():
        h.append(
            f"<h2>{e(name)}</h2><img alt='{e(name)}' src='data:image/png;base64,"
            f"{base64.b64encode(data).decode()}'>"
        )
    if sim.get("per_category"):
        h.append(
            "<h2>Simulated shoppers per category</h2><table><tr><th>category</th><th>n</th><th>success@1</th>"
            "<th>success@3</th><th>success@5</th><th>recall@5</th></tr>"
        )
        h += [
            f"<tr><td>{e(c)}</td><td>{v['n']}</td><td>{_fmt(v.get('success@1'))}</td><td>{_fmt(v.get('success@3'))}"
            f"</td><td>{_fmt(v.get('success@5'))}</td><td>{_fmt(v.get('recall@5'))}</td></tr>"
            for c, v in sim["per_category"].items()
        ]
        h.append("</table>")
    h += _html_worst(bad, failed)
    if dialogues:
        h += _html_misses(dialogues)
    h.append("</body></html>")
    return "\n".join(h)


def _html_worst(bad: list[dict[str, Any]], failed: int) -> list[str]:
    """The worst failed conversations, turn by turn, each failed check under its turn."""
    e = html.escape
    h = [f"<h2>Worst failures</h2><p>{len(bad)} shown of {failed} failed conversations.</p>"]
    for t in bad:
        h.append(f"<h3>{e(t['id'])} <small>({e(t['suite'])})</small></h3>")
        for x in t["turns"]:
            h.append(
                f"<div class='turn'><b>shopper:</b> {e(x['user'])}<br>"
                f"<small>intents {e(str(x['intents']))} · "
                f"action {e(str(x['action']))}</small><br>"
            )
            if x["cards"]:
                h.append("<small>cards: " + e("; ".join(x["cards"])) + "</small><br>")
            h.append(f"<span class='bot'><b>aisle:</b> {e(x['reply'])}</span>")
            h += [f"<div class='fail'>FAIL {e(f)}</div>" for f in x["failures"]]
            h.append("</div>")
    return h


def _html_misses(dialogues: list[dict[str, Any]]) -> list[str]:
    """The first five simulated shoppers who never found their target."""
    e = html.escape
    h = ["<h2>Simulated dialogues (first 5 misses)</h2>"]
    for d in [d for d in dialogues if d["success_turn"] is None][:5]:
        h.append(f"<h3>{e(d['customer_id'])} → {e(d['target'])}</h3>")
        for x in d["turns"]:
            h.append(
                f"<div class='turn'><b>shopper:</b> {e(x['user'])}<br><span class='bot'><b>aisle:</b> "
                f"{e(x['reply'])}</span><br><small>{e('; '.join(x['cards']))}</small></div>"
            )
    return h
