"""`aisle run`: check the settings are safe to serve with, load the demo customers, start uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
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

    p = _parser()
    args = p.parse_args(argv)
    if args.workers < 1:
        p.error("--workers must be >= 1")
    overrides: dict[str, Any] = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if args.demo:
        overrides["demo_mode"] = True
    if args.workers > 1:  # N processes counting in memory would grant every client N times its quota
        overrides["rate_limit_store"] = "database"
    settings = load_settings(**overrides)
    _check_exposure(settings)
    _logging()
    if not args.no_demo_customers:
        _seed_demo_customers(settings)
    print(
        f"Aisle on http://{settings.host}:{settings.port}/  "
        "(OpenAPI: /api/openapi.json, widget demo: /widget-demo)"
        + (f"  [{args.workers} workers]" if args.workers > 1 else "")
    )
    # Behind a reverse proxy every shopper arrives from the proxy's address; uvicorn takes the client
    # address from X-Forwarded-For only when the proxy is one we trust.
    serve: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "reload": False,
        "log_level": "warning",
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if args.workers == 1:
        uvicorn.run(_app(settings), workers=1, **serve)
        return 0
    from assistant.identity import load_or_create_secret

    load_or_create_secret(settings)  # made once here: workers starting together would each make one
    # Workers are fresh processes that read their settings from the environment: pass the overrides on.
    for key, value in overrides.items():
        os.environ[f"AISLE_{key.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    uvicorn.run("ui.serve:worker_app", factory=True, workers=args.workers, **serve)
    return 0


def _parser() -> argparse.ArgumentParser:
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
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes on one port (each loads the models); rate limits are then counted in "
        "the database (docs/deployment.md)",
    )
    return p


def _logging() -> None:
    from assistant.pii import install_log_redaction

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction()  # no email, phone, card or address reaches a log line


def _app(settings: Settings) -> Any:
    app = create_app(settings)
    backend: Backend = app.state.backend
    # Build the engine in the background: the page is up at once, the first answer is still fast.
    threading.Thread(target=_warm, args=(backend,), daemon=True, name="aisle-warm").start()
    return app


def worker_app() -> Any:
    """One worker of ``aisle run --workers N`` (uvicorn's app factory): settings from the environment."""
    from assistant.settings import load_settings

    _logging()
    return _app(load_settings())


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
