"""Agent console and Insights tabs (token-protected) for the Gradio app."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr

from ui import agent_api, insight_panels, insights
from ui.render import cards_html, esc, passages_html, transcript_html

if TYPE_CHECKING:
    from ui.service import Backend

DENIED = "Wrong or missing agent token."


def _authorized(backend: Backend, token: str | None) -> bool:
    from assistant.tokens import TokenDigests

    return TokenDigests.from_settings(backend.settings).ok(token)  # hashed, constant-time, as the API


def _transcript(backend: Backend, messages: list[dict[str, Any]]) -> str:
    # Staff see the whole transcript, but shopper text and quoted reviews still pass the render guard.
    return transcript_html([{**m, "text": backend.guard.clean(str(m.get("text") or ""))} for m in messages])


def load_queue(backend: Backend, token: str) -> tuple[Any, Any]:
    if not _authorized(backend, token):
        return DENIED, gr.update(choices=[], value=None)
    q = agent_api.queue(backend)
    rows = [
        "<table class='aisle-queue'><tr><th>#</th><th>kind</th><th>status</th><th>conversation</th>"
        "<th>summary</th></tr>"
    ]
    choices: list[tuple[str, str]] = []
    for t in q["tickets"]:
        rows.append(
            f"<tr><td>{t['id']}</td><td>{esc(t['kind'])}</td><td>{esc(t['status'])}</td>"
            f"<td>{esc(t['session_id'])}</td><td>{esc(backend.guard.clean(t['summary'])[:140])}</td></tr>"
        )
        if t["session_id"]:
            choices.append((f"ticket #{t['id']} · {t['kind']} · {t['summary'][:50]}", t["session_id"]))
    rows.append("</table>")
    seen = {v for _, v in choices}
    for s in q["sessions"]:
        if s["id"] not in seen:
            flag = " · agent" if s.get("paused") else ""
            if insight_panels.falling(backend, s["id"]):
                flag += " · sentiment falling"
            choices.append((f"live · {s['id'][:12]} · {s.get('customer_id') or 'anonymous'}{flag}", s["id"]))
    html_out = "".join(rows) if q["tickets"] else "<p>No open hand-off tickets.</p>"
    return html_out, gr.update(choices=choices, value=None)


def sentiment_plot(points: list[dict[str, Any]]) -> Any:
    fig, ax = insights._fig("Sentiment over the conversation")
    ax.plot([p["turn"] for p in points], [p["score"] for p in points], marker="o", color="#7c3aed")
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="#999", lw=0.5)
    ax.set_xlabel("shopper turn")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def open_conversation(backend: Backend, token: str, session_id: str | None) -> tuple[Any, ...]:
    """(transcript, profile, sentiment plot, suggested reply, products, policies, status)."""
    if not _authorized(backend, token):
        return DENIED, "", None, "", "", "", DENIED
    if not session_id:
        return "", "", None, "", "", "", "Pick a conversation."
    view = agent_api.session_view(backend, session_id)
    try:
        sug = backend.suggest(session_id)
    except Exception as exc:  # a failed draft must not hide the transcript
        sug = {"text": "", "products": [], "policies": [], "error": type(exc).__name__}
    prof = view["profile"]
    notes = insight_panels.console_notes(backend, view["session"].get("customer_id"), view["sentiment"])
    profile_md = "\n\n".join(html.escape(x, quote=False) for x in [str(prof.get("summary", "")), *notes])
    paused = "agent has taken over" if view["session"].get("paused") else "bot is answering"
    return (
        _transcript(backend, view["messages"]),
        profile_md,
        sentiment_plot(view["sentiment"]),
        str(sug.get("text", "")),
        cards_html(sug.get("products") or [], actions=False),
        passages_html(sug.get("policies") or []),
        f"Conversation {session_id[:12]}: {paused}.",
    )


def send_reply(backend: Backend, token: str, session_id: str | None, text: str) -> tuple[Any, str]:
    if not _authorized(backend, token):
        return gr.skip(), DENIED
    if not session_id or not (text or "").strip():
        return gr.skip(), "Pick a conversation and write a reply."
    agent_api.send_as_agent(backend, session_id, text.strip())
    return _transcript(backend, backend.store.messages(session_id)), "Sent to the customer."


def live_transcript(backend: Backend, token: str, session_id: str | None, shown: str | None) -> Any:
    """Timer tick: refresh the open conversation so new shopper messages appear without a click."""
    if not session_id or not _authorized(backend, token):
        return gr.skip()
    fresh = _transcript(backend, backend.store.messages(session_id))
    return fresh if fresh != shown else gr.skip()


def take_over(backend: Backend, token: str, session_id: str | None, paused: bool) -> str:
    if not _authorized(backend, token):
        return DENIED
    if not session_id:
        return "Pick a conversation."
    agent_api.set_takeover(backend, session_id, paused)
    return "You have taken over: the bot is paused." if paused else "Released: the bot answers again."


PANELS = (
    *("intents", "sentiment", "ctr", "unanswered"),
    *("experiment", "segments", "churn", "satisfaction", "trajectories"),
)


def load_insights(backend: Backend, token: str) -> tuple[Any, ...]:
    """(summary, then one figure per panel in PANELS' order)."""
    if not _authorized(backend, token):
        return (DENIED,) + (None,) * len(PANELS)
    data = insights.compute(backend.store)
    more = insight_panels.compute(backend)
    figs = {**insights.charts(data), **insight_panels.figures(more)}
    return (insight_summary(data, more), *(figs[p] for p in PANELS))


def insight_summary(data: dict[str, Any], more: dict[str, Any]) -> str:
    """The panels' headline numbers in words, and the at-risk customers with their reasons."""
    ctr = ", ".join(f"{k}: {v['clicks']}/{v['impressions']}" for k, v in data["ctr_by_variant"].items())
    lines = [f"Clicks/impressions by variant: {esc(ctr or 'no data')}"]
    for rep in more["experiments"][:1]:
        lines.append("Experiment: " + "<br>".join(esc(x) for x in rep["summary"]))
    if more["churn_model"]:
        m, b = more["churn_model"]["model"], more["churn_model"]["recency_only"]
        lines.append(
            f"Churn model (tested on the latest window): AUC {m['auc']:.2f}, recency only {b['auc']:.2f}"
        )
    for r in more["at_risk"][:5]:
        lines.append(
            f"At risk: {esc(r['customer_id'])} ({esc(r['segment'] or '')}) {r['risk']:.0%}: "
            + esc("; ".join(r["reasons"]))
        )
    falling = [t["session_id"][:12] for t in more["trajectories"] if t["falling"]]
    lines.append(f"Conversations with falling sentiment: {esc(', '.join(falling) or 'none')}")
    return "\n\n".join(lines)


def build_tabs(backend: Backend) -> None:
    with gr.Tab("Agent console", id="agent"):
        w = _agent_layout()
        _wire_agent(backend, w)
    with gr.Tab("Insights", id="insights"):
        _insights_tab(backend)


def _agent_layout() -> dict[str, Any]:
    """The console's components by name: queue and conversation picker, transcript and reply on the
    left, what the agent needs to answer (profile, sentiment, products, policies) on the right."""
    w: dict[str, Any] = {}
    with gr.Row():
        w["token"] = gr.Textbox(label="Agent token", type="password", elem_id="agent-token", scale=3)
        w["refresh"] = gr.Button("Load queue", elem_id="agent-load", scale=1)
    w["queue"] = gr.HTML(elem_id="agent-queue")
    w["convo"] = gr.Dropdown(label="Conversation", choices=[], elem_id="agent-convo", interactive=True)
    w["status"] = gr.Markdown(elem_id="agent-status")
    with gr.Row():
        with gr.Column(scale=3):
            w["transcript"] = gr.HTML(elem_id="agent-transcript")
            w["reply"] = gr.Textbox(
                label="Suggested reply (edit before sending)", lines=4, elem_id="agent-reply"
            )
            with gr.Row():
                w["send"] = gr.Button("Send", variant="primary", elem_id="agent-send")
                w["grab"] = gr.Button("Take over", elem_id="agent-takeover")
                w["free"] = gr.Button("Release to bot", elem_id="agent-release")
        with gr.Column(scale=2):
            gr.Markdown("**Customer profile**")
            w["profile"] = gr.Markdown(elem_id="agent-profile")
            w["senti"] = gr.Plot(label="Sentiment")
            gr.Markdown("**Suggested products**")
            w["products"] = gr.HTML(elem_id="agent-products")
            gr.Markdown("**Relevant policy passages**")
            w["policies"] = gr.HTML(elem_id="agent-policies")
    return w


def _wire_agent(backend: Backend, w: dict[str, Any]) -> None:
    # Registration order is kept: Gradio names these lambda endpoints by their position.
    token, convo, transcript, a_status = w["token"], w["convo"], w["transcript"], w["status"]
    for trigger in (w["refresh"].click, token.submit):
        trigger(
            lambda t: load_queue(backend, t),
            inputs=[token],
            outputs=[w["queue"], convo],
            api_visibility="private",
        )
    convo.change(
        lambda t, s: open_conversation(backend, t, s),
        inputs=[token, convo],
        outputs=[transcript, w["profile"], w["senti"], w["reply"], w["products"], w["policies"], a_status],
        api_visibility="private",
    )
    w["send"].click(
        lambda t, s, x: send_reply(backend, t, s, x),
        inputs=[token, convo, w["reply"]],
        outputs=[transcript, a_status],
        api_visibility="private",
    )
    w["grab"].click(
        lambda t, s: take_over(backend, t, s, True),
        inputs=[token, convo],
        outputs=[a_status],
        api_visibility="private",
    )
    live = gr.Timer(3.0)
    live.tick(
        lambda t, s, h: live_transcript(backend, t, s, h),
        inputs=[token, convo, transcript],
        outputs=[transcript],
        show_progress="hidden",
        api_visibility="private",
    )
    w["free"].click(
        lambda t, s: take_over(backend, t, s, False),
        inputs=[token, convo],
        outputs=[a_status],
        api_visibility="private",
    )


def _insights_tab(backend: Backend) -> None:
    with gr.Row():
        i_token = gr.Textbox(label="Agent token", type="password", scale=3, elem_id="insights-token")
        i_load = gr.Button("Load insights", scale=1, elem_id="insights-load")
    i_note = gr.Markdown(elem_id="insights-note")
    labels = {
        "intents": "Intents",
        "sentiment": "Sentiment over time",
        "ctr": "CTR by variant",
        "unanswered": "Unanswered questions",
        "experiment": "Experiment",
        "segments": "Segments",
        "churn": "Churn risk",
        "satisfaction": "Satisfaction (CSAT)",
        "trajectories": "Sentiment trajectories",
    }
    plots = {}
    for pair in zip(PANELS[0::2], PANELS[1::2] + ("",), strict=True):
        with gr.Row():
            for name in (n for n in pair if n):
                plots[name] = gr.Plot(label=labels[name], elem_id=f"insights-{name}")
    i_load.click(
        lambda t: load_insights(backend, t),
        inputs=[i_token],
        outputs=[i_note, *(plots[p] for p in PANELS)],
        api_visibility="private",
    )
    with gr.Row():
        e_name = gr.Textbox(label="Experiment", scale=2, elem_id="insights-exp-name")
        e_arm = gr.Textbox(label="Promote arm (empty: stop only; 'winner': the report's)", scale=2)
        e_stop = gr.Button("Stop experiment", variant="stop", scale=1, elem_id="insights-exp-stop")
    e_note = gr.Markdown(elem_id="insights-exp-note")
    e_stop.click(
        lambda t, n, a: stop_experiment(backend, t, n, a),
        inputs=[i_token, e_name, e_arm],
        outputs=[e_note],
        api_visibility="private",
    )


def stop_experiment(backend: Backend, token: str, name: str, arm: str) -> str:
    """Stop an experiment; promote an arm (or the report's significant winner) to everyone."""
    if not _authorized(backend, token):
        return DENIED
    from assistant.errors import AisleError

    name, arm = (name or "").strip(), (arm or "").strip()
    try:
        winner: str | None = arm or None
        if arm == "winner":
            reps = {r["experiment"]: r for r in insight_panels.experiments(backend)}
            winner = reps[name]["winner"] if name in reps else None
        backend.experiments.stop(name, winner)
    except AisleError as exc:
        return esc(str(exc))
    return esc(f"Stopped {name}." + (f" {winner} now serves everyone." if winner else " The default serves."))
