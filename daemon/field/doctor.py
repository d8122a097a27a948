"""``veilcam doctor``: the machine checked against its board profile, each problem printed
with the command that fixes it. A *problem* stops the appliance from doing its job (no camera
device, an altered model, a full disk); a *warning* leaves it working, worse (no accelerator:
the CPU does the work; the clock not synchronised).

Everything is read under ``root`` (``/`` on the board; a mounted board image, or a test's
scratch directory, elsewhere): device nodes, ``etc/passwd`` and ``etc/group``, the thermal
zones, systemd-timesyncd's flag file. The clock of the running kernel is asked only when
``root`` is ``/``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import glob
import importlib
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from veilcam import certificate
from veilcam.config import Config, V4L2DepthConfig, V4L2SourceConfig, load
from veilcam.errors import ConfigError, ModelError
from veilcam.field.profile import FieldProfile
from veilcam.vision import models

Level = Literal["ok", "warning", "problem"]
TIME_ERROR = 5  # adjtimex(2): the kernel clock is not synchronised
CERT_WARN_DAYS = 30
# A clock before this is wrong whatever NTP says: no veilcam build is older.
EARLIEST = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    level: Level
    message: str
    fix: str = ""


class Machine:
    """Where the checks look: the files under ``root``, and the kernel's clock on ``/``."""

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = root

    def path(self, p: str | Path) -> Path:
        return self.root / str(p).lstrip("/")

    def glob(self, pattern: str) -> list[Path]:
        return [Path(p) for p in sorted(glob.glob(str(self.path(pattern))))]

    def table(self, name: str) -> list[list[str]]:
        """``etc/passwd`` or ``etc/group`` as split lines."""
        try:
            lines = self.path(f"/etc/{name}").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [ln.split(":") for ln in lines if ln and not ln.startswith("#")]

    def clock_synchronised(self) -> bool:
        if self.root == Path("/"):
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            buf = ctypes.create_string_buffer(256)  # struct timex, modes 0: only read
            return int(libc.adjtimex(buf)) not in (TIME_ERROR, -1)
        return self.path("/run/systemd/timesync/synchronized").exists()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


def _user_groups(m: Machine, user: str) -> set[str] | None:
    passwd = {row[0]: row for row in m.table("passwd") if len(row) >= 4}
    if user not in passwd:
        return None
    gid = passwd[user][3]
    out = set()
    for row in m.table("group"):
        if len(row) >= 4 and (row[2] == gid or user in row[3].split(",")):
            out.add(row[0])
    return out


def _group_names(m: Machine) -> dict[str, str]:
    """gid -> name."""
    return {row[2]: row[0] for row in m.table("group") if len(row) >= 3}


class Doctor:
    def __init__(
        self,
        profile: FieldProfile,
        config_path: Path,
        machine: Machine | None = None,
        *,
        user: str = "veilcam",
        data_dir: Path | None = None,
    ) -> None:
        self.profile, self.config_path = profile, config_path
        self.m = machine or Machine()
        self.user = user
        self.config: Config | None = None
        self._data_dir = data_dir

    @property
    def data_dir(self) -> Path:
        if self._data_dir is not None:
            return self._data_dir
        d = self.config.data_dir if self.config else "/var/lib/veilcam"
        return self.m.path(d) if os.path.isabs(d) else Path(d)

    def run(self) -> list[Finding]:
        checks: dict[str, Callable[[], list[Finding]]] = {
            "config": self.check_config,
            "devices": self.check_devices,
            "groups": self.check_groups,
            "permissions": self.check_permissions,
            "models": self.check_models,
            "accelerator": self.check_accelerator,
            "disk": self.check_disk,
            "clock": self.check_clock,
            "certificate": self.check_certificate,
            "thermal": self.check_thermal,
        }
        out = self.check_config()  # first: the others read it
        for name in self.profile.checks:
            if name != "config":
                out += checks[name]()
        return out

    def check_config(self) -> list[Finding]:
        path = self.config_path
        try:
            self.config = load(path)
        except (ConfigError, OSError) as exc:
            return [Finding("config", "problem", str(exc), f"veilcam check-config {path}")]
        c = self.config
        return [Finding("config", "ok", f"{path}: {len(c.cameras)} cameras")]

    def _device(self, what: str, node: str) -> Finding:
        p = self.m.path(node)
        if not p.exists():
            return Finding(
                "devices",
                "problem",
                f"{what}: {node} does not exist",
                "plug it in and check the cable; `ls -l /dev/v4l/by-id/ /dev/serial/by-id/`"
                " lists what the board sees; `udevadm trigger` reapplies the veilcam rules",
            )
        st = p.stat()
        group = _group_names(self.m).get(str(st.st_gid), str(st.st_gid))
        if not stat.S_ISCHR(st.st_mode) and self.m.root == Path("/"):
            return Finding("devices", "problem", f"{what}: {node} is not a device node")
        if not st.st_mode & stat.S_IRGRP or not st.st_mode & stat.S_IWGRP:
            return Finding(
                "devices",
                "problem",
                f"{what}: {node} is not readable and writable by its group {group}",
                f"chmod g+rw {node} (udev: /usr/lib/udev/rules.d/99-veilcam.rules)",
            )
        mine = _user_groups(self.m, self.user) or set()
        if group not in mine:
            return Finding(
                "devices",
                "problem",
                f"{what}: {node} belongs to group {group}, which {self.user} is not in",
                f"usermod -aG {group} {self.user}",
            )
        return Finding("devices", "ok", f"{what}: {node}")

    def check_devices(self) -> list[Finding]:
        c = self.config
        out = []
        for cam in c.cameras if c else []:
            if isinstance(cam.source, V4L2SourceConfig):
                out.append(self._device(f"camera {cam.name}", cam.source.device))
            if isinstance(cam.depth, V4L2DepthConfig):
                out.append(self._device(f"depth camera of {cam.name}", cam.depth.device))
        if c and c.sensors:
            out.append(self._device("sensor board", c.sensors.port))
        if not out:
            found = self.m.glob(self.profile.cameras)
            out.append(
                Finding("devices", "ok", f"no devices configured; {len(found)} cameras seen")
            )
        return out

    def check_groups(self) -> list[Finding]:
        mine = _user_groups(self.m, self.user)
        if mine is None:
            return [
                Finding(
                    "groups",
                    "problem",
                    f"no user {self.user}",
                    "systemd-sysusers (reads /usr/lib/sysusers.d/veilcam.conf)",
                )
            ]
        known = set(_group_names(self.m).values())
        out = []
        for g in self.profile.groups:
            if g not in known:
                out.append(Finding("groups", "problem", f"no group {g}", f"groupadd --system {g}"))
            elif g not in mine:
                out.append(
                    Finding(
                        "groups",
                        "problem",
                        f"{self.user} is not in group {g}",
                        f"usermod -aG {g} {self.user}",
                    )
                )
        return out or [Finding("groups", "ok", f"{self.user} in {', '.join(self.profile.groups)}")]

    def check_permissions(self) -> list[Finding]:
        d = self.data_dir
        fix = (
            f"systemd-tmpfiles --create veilcam.conf, or: chown {self.user}: {d} && chmod 0750 {d}"
        )
        if not d.is_dir():
            return [Finding("permissions", "problem", f"data directory {d} missing", fix)]
        st = d.stat()
        passwd = {row[0]: row for row in self.m.table("passwd") if len(row) >= 4}
        uid = passwd.get(self.user, ["", "", "-1"])[2]
        if str(st.st_uid) != uid:
            return [Finding("permissions", "problem", f"{d} not owned by {self.user}", fix)]
        if st.st_mode & 0o007:
            return [Finding("permissions", "problem", f"{d} open to other users", fix)]
        return [Finding("permissions", "ok", f"{d} {self.user}, mode {st.st_mode & 0o777:o}")]

    def check_models(self) -> list[Finding]:
        c = self.config
        cache = Path(c.vision.models_dir) if c and c.vision.models_dir else models.default_cache()
        man = models.Manifest.load()
        names = [m.name for m in models.selected(man)]
        if self.profile.inference.face_model not in names:
            names.append(self.profile.inference.face_model)
        out = []
        for name in names:
            try:
                models.path(name, cache, man)
            except ModelError as exc:
                fix = f"veilcam models fetch --cache {cache}" + (
                    " --optional" if man.model(name).optional else ""
                )
                out.append(Finding("models", "problem", str(exc), fix))
        return out or [Finding("models", "ok", f"{len(names)} models in {cache}, hashes match")]

    def check_accelerator(self) -> list[Finding]:
        prof = self.profile.inference
        out = []
        for node in self.profile.accelerator:
            if not self.m.path(node).exists():
                out.append(
                    Finding(
                        "accelerator",
                        "warning",
                        f"{node} missing: the models run on the CPU",
                        "check the accelerator's driver (`lsmod`, `dmesg`) and the board's"
                        " device tree",
                    )
                )
        if prof.face_runtime == "onnxruntime":
            out += self._onnx_runtime(prof.face_providers)
        if prof.delegate == "edgetpu":
            out += self._edgetpu()
        return out or [Finding("accelerator", "ok", "none in this profile")]

    def _onnx_runtime(self, wanted: tuple[str, ...]) -> list[Finding]:
        fix = "install NVIDIA's onnxruntime-gpu wheel for this JetPack (docs/field.md)"
        try:
            ort = importlib.import_module("onnxruntime")
        except ImportError:
            return [
                Finding("accelerator", "warning", "ONNX Runtime absent: BlazeFace on the CPU", fix)
            ]
        have = set(ort.get_available_providers())
        if not set(wanted) & have:
            return [
                Finding(
                    "accelerator",
                    "warning",
                    f"ONNX Runtime offers none of {', '.join(wanted)}: faces on the CPU",
                    fix,
                )
            ]
        return [Finding("accelerator", "ok", f"ONNX Runtime: {', '.join(sorted(have))}")]

    def _edgetpu(self) -> list[Finding]:
        fix = "apt install python3-tflite-runtime libedgetpu1-std (Coral's apt repository)"
        try:
            importlib.import_module("tflite_runtime.interpreter")
        except ImportError:
            return [
                Finding("accelerator", "warning", "tflite-runtime absent: LiteRT on the CPU", fix)
            ]
        try:
            ctypes.CDLL("libedgetpu.so.1")
        except OSError:
            return [Finding("accelerator", "warning", "libedgetpu.so.1 absent: CPU only", fix)]
        return [Finding("accelerator", "ok", "tflite-runtime and the Edge TPU library")]

    def check_disk(self) -> list[Finding]:
        d = self.data_dir
        while not d.exists() and d != d.parent:
            d = d.parent
        free = shutil.disk_usage(d).free
        need = (self.config.storage.min_free_mb if self.config else 512) * 1024 * 1024
        fix = "free space (`journalctl --vacuum-size=50M`) or fit a larger card or disk"
        mb = free // (1024 * 1024)
        if free < need:
            return [
                Finding("disk", "problem", f"{mb} MB free under {d}, below {need >> 20} MB", fix)
            ]
        if free < 2 * need:
            return [Finding("disk", "warning", f"{mb} MB free under {d}", fix)]
        return [Finding("disk", "ok", f"{mb} MB free under {d}")]

    def check_clock(self) -> list[Finding]:
        now = self.m.now()
        if now < EARLIEST:
            return [
                Finding("clock", "problem", f"clock reads {now:%Y-%m-%d}", "time set (console)")
            ]
        if not self.m.clock_synchronised():
            return [
                Finding(
                    "clock",
                    "warning",
                    "not synchronised: reports, alarms and retention follow this clock",
                    "timedatectl set-ntp true; timedatectl timesync-status",
                )
            ]
        return [Finding("clock", "ok", "synchronised")]

    def check_certificate(self) -> list[Finding]:
        crt, _ = certificate.paths(self.data_dir)
        if not crt.exists():
            return [Finding("certificate", "ok", "none yet: the daemon makes one at its start")]
        left = certificate.not_after(crt) - self.m.now()
        if left.total_seconds() <= 0:
            return [
                Finding("certificate", "problem", "web UI certificate expired", "veilcam tls renew")
            ]
        if left.days < CERT_WARN_DAYS:
            return [
                Finding(
                    "certificate", "warning", f"expires in {left.days} days", "veilcam tls renew"
                )
            ]
        return [Finding("certificate", "ok", f"valid for {left.days} more days")]

    def check_thermal(self) -> list[Finding]:
        temps = []
        for p in self.m.glob("/sys/class/thermal/thermal_zone*/temp"):
            try:
                temps.append(int(p.read_text().strip()) / 1000)
            except (OSError, ValueError):
                continue
        if not temps:
            return [Finding("thermal", "ok", "no thermal zones to read")]
        hot = max(temps)
        fix = "give the board air: a heat sink, a fan, out of the fridge's exhaust"
        if hot >= self.profile.max_c:
            return [
                Finding("thermal", "problem", f"{hot:.0f} °C, limit {self.profile.max_c:.0f}", fix)
            ]
        if hot >= self.profile.warn_c:
            return [Finding("thermal", "warning", f"{hot:.0f} °C", fix)]
        return [Finding("thermal", "ok", f"{hot:.0f} °C at the hottest zone")]


def can_run(findings: list[Finding]) -> bool:
    return not any(f.level == "problem" for f in findings)


def as_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    return [asdict(f) for f in findings]


def print_findings(findings: list[Finding], write: Callable[[str], object] = print) -> None:
    for f in findings:
        write(f"{f.level.upper() if f.level != 'ok' else 'ok':8} {f.check}: {f.message}")
        if f.fix and f.level != "ok":
            write(f"{'':8} fix: {f.fix}")
    problems = sum(f.level == "problem" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    if problems:
        write(f"veilcam cannot run: {problems} problem(s), {warnings} warning(s)")
    else:
        write(f"veilcam can run: {warnings} warning(s)")
