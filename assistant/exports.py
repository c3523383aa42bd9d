"""'Download my data' files: written under ``<data_dir>/exports`` (folder 0700, files 0600), handed
out once under a random 128-bit name, gone after the download, after ``EXPORT_TTL_S``, or when
the customer is deleted.

A file's name starts with a keyed hash of the customer id (never the id), so erasure finds her
files without anything on disk naming her.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["EXPORT_TTL_S", "legacy_exports", "remove_exports", "take_export", "write_export"]

EXPORT_TTL_S = 600
_NAME = re.compile(r"^[0-9a-f]{32}-[0-9a-f]{32}\.json$")


def export_dir(data_dir: Path) -> Path:
    d = Path(data_dir) / "exports"
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def _sweep(d: Path, now: float) -> None:
    for f in d.glob("*.json"):
        try:
            if now - f.stat().st_mtime > EXPORT_TTL_S:
                f.unlink()
        except FileNotFoundError:  # a concurrent download took it
            pass


def write_export(data_dir: Path, tag: str, data: dict[str, Any]) -> str:
    """Write one export; returns its one-time name."""
    d = export_dir(data_dir)
    _sweep(d, time.time())
    name = f"{tag}-{secrets.token_hex(16)}.json"
    fd = os.open(d / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, default=str)
    return name


def take_export(data_dir: Path, name: str) -> bytes | None:
    """The export's bytes, once: the file is removed as it is read. None if unknown or expired."""
    if not _NAME.match(name):
        return None
    path = Path(data_dir) / "exports" / name
    try:
        fresh = time.time() - path.stat().st_mtime <= EXPORT_TTL_S
        body = path.read_bytes()
        path.unlink()
    except FileNotFoundError:
        return None
    return body if fresh else None


def remove_exports(data_dir: Path, tag: str, customer_id: str) -> int:
    """Delete every export of this customer: hers under the data dir, and files named after her
    that earlier versions left in the temp folders. Returns how many were removed."""
    d = Path(data_dir) / "exports"
    found = list(d.glob(f"{tag}-*.json")) if d.is_dir() else []
    found += legacy_exports(customer_id)
    for f in found:
        f.unlink(missing_ok=True)
    return len(found)


def legacy_exports(customer_id: str) -> list[Path]:
    """Before exports lived in the data dir they were ``<tmp>/tmpXXXX-<customer id>.json``, and Gradio
    copied them to ``<tmp>/gradio/<hash>/``."""
    tmp = Path(tempfile.gettempdir())
    roots = [tmp, Path(os.environ.get("GRADIO_TEMP_DIR") or tmp / "gradio")]
    pattern = f"*-{customer_id}.json"
    out = [f for f in roots[0].glob(pattern) if f.is_file()]
    if roots[1].is_dir():
        out += [f for f in roots[1].glob(f"*/{pattern}") if f.is_file()]
    return out
