"""Content hashes of the code (and packaged data) that builds a cached artifact.

The eval sandbox and `aisle bench load` cache built data dirs (indexes, fitted recommenders) under
the cache folder; a key that covers the building code means a code change is never scored against a
stale artifact.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Collection
from pathlib import Path


def source_hash(*modules: str, suffixes: Collection[str] = (".py",)) -> str:
    """Hash of the files of ``modules`` (a package: every file under it with one of ``suffixes``;
    a module: its file), names included, so a moved or renamed file changes the key too."""
    h = hashlib.sha1()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"no module {name!r} to hash")
        origin = Path(spec.origin)
        if spec.submodule_search_locations:
            root = origin.parent
            files = sorted(
                f
                for f in root.rglob("*")
                if f.is_file() and f.suffix in suffixes and "__pycache__" not in f.parts
            )
        else:
            root, files = origin.parent, [origin]
        for f in files:
            h.update(f"{name}/{f.relative_to(root)}".encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]
