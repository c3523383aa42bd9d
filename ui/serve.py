"""`aisle run`: check the settings are safe to serve with, load the demo customers, start uvicorn."""

from __future__ import annotations

import argparse
import logging
import threading
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from ui.api import create_app

if TYPE_CHECKING:
    from assistant.settings import Settings
    from ui.service import Backend

log = logging.getLogger("aisle.ui")


def cli(argv: list[str]) -> int:
    import uvicorn

    from assistant.settings import load_settings

    p = argparse.ArgumentParser(prog="aisle run", description="Serve the Aisle web app, API and widget.")
    p.add_argument("--host", default=None, help="default: settings.host (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: settings.port (7860)")
    p.add_argument(
        "--no-demo-customers",
        action="store_true",
        help="do not load the demo shop's customers and orders into an empty database",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="demo mode for the demo shop: 'sign in as a demo customer' without a credential, for "
        "clients on this machine only (make run uses it); never for a real shop",
    )
    args = p.parse_args(argv)
    overrides: dict[str, Any] = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if args.demo:
        overrides["demo_mode"] = True
    settings = load_settings(**overrides)
    _check_exposure(settings)
    from assistant.pii import install_log_redaction

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction()  # no email, phone, card or address reaches a log line
    if not args.no_demo_customers:
        _seed_demo_customers(settings)
    app = create_app(settings)
    backend: Backend = app.state.backend
    # Build the engine in the background: the page is up at once, the first answer is still fast.
    threading.Thread(target=_warm, args=(backend,), daemon=True, name="aisle-warm").start()
    print(
        f"Aisle on http://{settings.host}:{settings.port}/  "
        "(OpenAPI: /api/openapi.json, widget demo: /widget-demo)"
    )
    # Behind a reverse proxy every shopper arrives from the proxy's address; uvicorn takes the client
    # address from X-Forwarded-For only when the proxy is one we trust.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        reload=False,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return 0


def _check_exposure(settings: Settings) -> None:
    """Refuse what would hand the shop to strangers; say so when the public demo defaults are in use."""
    import sys

    from assistant.identity import is_loopback, serving_problem
    from assistant.settings import DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN

    problem = serving_problem(settings)
    if problem:
        raise ConfigError(problem)
    if settings.demo_mode and not _is_demo_shop(settings):
        raise ConfigError(
            "--demo is only for the demo shop, and the ingested catalog is another shop's: "
            "run without --demo (shops sign customers in with tokens, docs/security.md)"
        )
    if {settings.agent_token.get_secret_value(), settings.admin_token.get_secret_value()} & {
        DEMO_AGENT_TOKEN,
        DEMO_ADMIN_TOKEN,
    }:
        print(
            "note: the staff tokens are the public demo defaults: fine on 127.0.0.1, "
            "refused on any other host (set AISLE_AGENT_TOKEN and AISLE_ADMIN_TOKEN)",
            file=sys.stderr,
        )
    if settings.demo_mode:
        where = "" if is_loopback(settings.host) else " (other machines are refused)"
        print(
            f"demo mode: 'sign in as a demo customer' is on for clients on this machine{where}",
            file=sys.stderr,
        )


def _is_demo_shop(settings: Settings) -> bool:
    from knowledge.demo import load_demo
    from knowledge.snapshot import load_catalog

    try:
        ours = {p.id for p in load_catalog(settings.data_dir).products}
    except Exception:  # nothing ingested: the engine serves the packaged demo shop
        return True
    return bool(ours) and ours <= {p.id for p in load_demo().products}


def _seed_demo_customers(settings: Settings) -> None:
    """'Sign in as a demo customer' needs the demo shop's customers; load them once into an empty
    database, and only when the ingested catalog is the demo shop's."""
    from assistant.store import Store

    store = Store.from_settings(settings)
    try:
        if store.list_customers(limit=1):
            return
        from knowledge.demo import load_demo
        from knowledge.snapshot import load_catalog

        shop = load_demo()
        ours = {p.id for p in load_catalog(settings.data_dir).products}
        if ours and ours <= {p.id for p in shop.products}:
            store.load_demo(shop)
    except Exception as exc:  # no catalog yet: the engine will say what to run
        log.warning("demo customers not loaded: %s", exc)
    finally:
        store.close()


def _warm(backend: Backend) -> None:
    try:
        backend.warm()
    except Exception as exc:
        backend.start_error = f"{type(exc).__name__}: {exc}"
        log.error("engine failed to start (%s); requests will report the error", backend.start_error)
