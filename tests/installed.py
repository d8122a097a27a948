"""Check an installed veilcam (``make wheel-check`` runs this with the clean virtual environment
the built wheel was installed into): every module imports, the package data is there, and
``veilcam check-config`` accepts the demo store's configuration.

Run it from outside the source tree, with the installed interpreter; it imports nothing of
the tests. It exits 1, naming what is missing, when the wheel left anything out.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

# What the daemon reads from the installed package rather than imports.
DATA = {
    "veilcam.board": ["models.toml", "profiles/generic.toml", "profiles/jetson.toml"],
    "veilcam.webui": ["templates/base.html", "templates/login.html", "static/style.css"],
    "veilcam.demo": ["assets/fridge/shelf-1.jpg", "assets/floor/aisle-1.jpg"],
    "veilcam.store": ["migrations/0001-pictures-sensors-audit.sql", "migrations/0011-research.sql"],
    "veilcam.privacy": ["locale/en.toml", "locale/nl.toml"],
    "veilcam_native": ["py.typed", "_redact.pyi"],
}
# Packages whose compiled modules a wheel must carry (built, not twins).
NATIVE = ["_checksum", "_embed", "_mask", "_redact", "_warp"]


def problems() -> list[str]:
    out: list[str] = []
    for top in ("veilcam", "veilcam_native"):
        package = importlib.import_module(top)
        if Path(sys.prefix).resolve() not in Path(package.__file__ or "").resolve().parents:
            out.append(f"{top} was imported from {package.__file__}, not from the wheel")
        for info in pkgutil.walk_packages(package.__path__, f"{top}."):
            if info.name.endswith("__main__"):
                continue
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # noqa: BLE001 - every failure is reported, by name
                out.append(f"import {info.name}: {type(exc).__name__}: {exc}")
    for package, names in DATA.items():
        root = resources.files(package)
        out += [f"{package}: {n} is missing" for n in names if not (root / n).is_file()]
    for name in NATIVE:
        try:
            importlib.import_module(f"veilcam_native.{name}")
        except ImportError as exc:
            out.append(f"veilcam_native.{name} is not in the wheel: {exc}")
    import veilcam
    from veilcam.demo.config import write_config

    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), port=8080)
        run = subprocess.run(
            [sys.executable, "-m", "veilcam", "check-config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if run.returncode != 0:
            out.append(f"veilcam check-config failed: {run.stderr.strip()}")
        else:
            print(run.stdout.strip())
    print(f"veilcam {veilcam.__version__}: {len(out)} problem(s)")
    return out


if __name__ == "__main__":
    found = problems()
    for line in found:
        print("PROBLEM:", line, file=sys.stderr)
    sys.exit(1 if found else 0)
