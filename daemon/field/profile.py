"""A board profile's field half (``board/profiles/*.toml``): the devices it expects, the
groups that open them, its thermal limits and which checks ``veilcam doctor`` runs on it.
The inference half (runtime, delegate, threads, face detector) is ``vision.runtime``'s."""

from __future__ import annotations

from dataclasses import dataclass

from veilcam.errors import ConfigError
from veilcam.vision.runtime import BoardProfile, profile_table

CHECKS = (
    "config",
    "devices",
    "groups",
    "permissions",
    "models",
    "accelerator",
    "disk",
    "clock",
    "certificate",
    "thermal",
)


@dataclass(frozen=True, slots=True)
class FieldProfile:
    inference: BoardProfile
    description: str
    cameras: str  # a glob of the camera device nodes
    serial: str
    groups: tuple[str, ...]
    accelerator: tuple[str, ...]  # device nodes of the accelerator, if any
    warn_c: float
    max_c: float
    checks: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.inference.name

    @classmethod
    def load(cls, name_or_path: str = "generic") -> FieldProfile:
        raw = profile_table(name_or_path)
        devices, thermal = raw.get("devices", {}), raw.get("thermal", {})
        checks = tuple(raw.get("doctor", {}).get("checks", CHECKS))
        if unknown := sorted(set(checks) - set(CHECKS)):
            raise ConfigError(f"board profile {raw.get('name')}: unknown checks {unknown}")
        prof = cls(
            inference=BoardProfile.from_table(raw),
            description=raw.get("description", ""),
            cameras=devices.get("cameras", "/dev/video*"),
            serial=devices.get("serial", "/dev/ttyVC0"),
            groups=tuple(devices.get("groups", ("video", "dialout"))),
            accelerator=tuple(devices.get("accelerator", ())),
            warn_c=float(thermal.get("warn_c", 85)),
            max_c=float(thermal.get("max_c", 100)),
            checks=checks,
        )
        if not 0 < prof.warn_c < prof.max_c <= 150:
            raise ConfigError(f"board profile {prof.name}: need 0 < warn_c < max_c <= 150")
        return prof
