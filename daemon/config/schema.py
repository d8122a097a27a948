"""The configuration's schema: every key with its type, default and constraints.

Durations are decoded to seconds as the file loads (``veilcam.durations``); caps that no
configuration may exceed are checked next to their fields or in ``load``.
"""

from __future__ import annotations

import importlib.util
import urllib.parse
from typing import Annotated, Literal

import msgspec

from veilcam.config.fleet import MqttConfig
from veilcam.config.types import KEEP, LOOPBACK, Name, TimeOfDay, _Strict
from veilcam.durations import Duration, DurationOrOff, Range
from veilcam.errors import ConfigError

__all__ = ["KEEP", "LOOPBACK", "MqttConfig", "Name", "TimeOfDay"]


class RetentionConfig(_Strict, frozen=True):
    fridge_stills: Annotated[Duration, KEEP] = Duration("30d")
    floor_stills: Annotated[Duration, KEEP] = Duration("72h")
    research_clips: Annotated[Duration, KEEP] = Duration("30d")
    face_evidence: Annotated[Duration, KEEP] = Duration("72h")
    visitor_templates: Annotated[Duration, KEEP] = Duration("24h")
    watchlist: Annotated[Duration, KEEP] = Duration("365d")
    audit_log: Annotated[Duration, KEEP] = Duration("183d")
    sensor_records: Annotated[Duration, KEEP] = Duration("400d")
    stock_records: Annotated[Duration, KEEP] = Duration("400d")
    requests: Annotated[Duration, KEEP] = Duration("1095d")

    def seconds(self, name: str) -> float:
        """The limit of retention class ``name``, in seconds."""
        return float(getattr(self, name))


class StorageConfig(_Strict, frozen=True):
    # Below this much free space the oldest pictures are deleted first.
    min_free_mb: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 512
    reaper_interval: Annotated[Duration, Range("1s", "1d")] = Duration("60s")
    health_interval: Annotated[Duration, Range("1s", "1h")] = Duration("5s")


class SensorConfig(_Strict, frozen=True):
    port: str = "/dev/ttyVC0"
    baudrate: Annotated[int, msgspec.Meta(ge=1200, le=4_000_000)] = 115200
    reconnect_max: Annotated[Duration, Range("1s", "1h")] = Duration("30s")
    # Set the board's clock and sampling period after every (re)connection.
    sample_period_ms: Annotated[int, msgspec.Meta(ge=100, le=3_600_000)] = 1000


# Each profile's (warning, alarm) limits in °C, where a cabinet does not set its own.
PROFILE_LIMITS = {
    # A chiller holds 5 °C or below; 8 °C is the UK legal limit.
    "chiller": (5.0, 8.0),
    # A freezer holds -18 °C; -15 °C is where quality starts to go.
    "freezer": (-18.0, -15.0),
}
# The highest alarm limit a profile may be given, in config or in the UI: a chiller's
# alarm above the UK legal 8 °C, or a freezer's above -15 °C, would watch nothing.
CEILINGS = {"chiller": 8.0, "freezer": -15.0}


def check_limits(profile: str, warn_above: float, alarm_above: float) -> str | None:
    """Why these limits are refused for this profile, or None."""
    if not (-60 <= warn_above <= 60 and -60 <= alarm_above <= 60):
        return "limits must be between -60 and 60 °C"
    if alarm_above < warn_above:
        return (
            f"the alarm limit {alarm_above:.1f} °C is below the warning limit {warn_above:.1f} °C"
        )
    ceiling = CEILINGS.get(profile)
    if ceiling is not None and alarm_above > ceiling:
        return f"a {profile}'s alarm limit may not be above {ceiling:.1f} °C"
    return None


class CabinetConfig(_Strict, frozen=True):
    """A fridge or freezer watched by one probe (and, if it has one, one door switch)."""

    name: Name
    profile: Literal["chiller", "freezer", "custom"] = "chiller"
    probe: str = "1"
    door: str | None = None
    # Limits in °C; the profile's unless set (a custom cabinet must set both).
    warn_above: Annotated[float, msgspec.Meta(ge=-60, le=60)] | None = None
    alarm_above: Annotated[float, msgspec.Meta(ge=-60, le=60)] | None = None
    delay: Annotated[Duration, Range("0s", "1d")] = Duration("30m")
    door_open_warning: Annotated[Duration, Range("10s", "1d")] = Duration("3m")
    door_open_alarm: Annotated[Duration, Range("10s", "1d")] = Duration("10m")
    openings_per_hour: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 30
    silent_warning: Annotated[Duration, Range("1m", "1d")] = Duration("5m")
    defrost_times: list[TimeOfDay] = []
    defrost_duration: Annotated[Duration, Range("1m", "4h")] = Duration("30m")

    def __post_init__(self) -> None:
        if self.profile == "custom" and (self.warn_above is None or self.alarm_above is None):
            raise ValueError(
                f"cabinet {self.name}: a custom profile needs warn_above and alarm_above"
            )
        base_warn, base_alarm = PROFILE_LIMITS.get(self.profile, (0.0, 0.0))
        warn = self.warn_above if self.warn_above is not None else base_warn
        alarm = self.alarm_above if self.alarm_above is not None else base_alarm
        if (why := check_limits(self.profile, warn, alarm)) is not None:
            raise ValueError(f"cabinet {self.name}: {why}")


class EmailConfig(_Strict, frozen=True):
    """Alarm email to the store's contacts, through the store's mail server."""

    # Also the alert e-mail set in the web UI's settings, if any.
    to: list[Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$")]] = []
    sender: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$")] = "veilcam@localhost"
    host: str = "localhost"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 25
    # starttls: upgrade or refuse to send; tls: TLS from the first byte; none: loopback only.
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_file: str | None = None  # the password, kept out of the config file
    # One message per alarm opening, or "1h", "1d"...: one message per period listing all.
    digest: Annotated[DurationOrOff, Range("1m", "7d")] = DurationOrOff("off")

    def __post_init__(self) -> None:
        if self.security == "none" and self.host not in LOOPBACK:
            raise ValueError(
                f"unencrypted SMTP is only allowed to loopback, not {self.host}: "
                'set security = "starttls" or "tls"'
            )
        if self.username is not None and self.password_file is None:
            raise ValueError("a username needs a password_file")


class WebhookConfig(_Strict, frozen=True):
    """A JSON POST per alarm change, signed with HMAC-SHA256 when a secret is set."""

    url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")]
    secret_file: str | None = None

    def __post_init__(self) -> None:
        host = urllib.parse.urlsplit(self.url).hostname or ""
        if self.url.startswith("http://") and host not in LOOPBACK:
            raise ValueError(f"plain http is only allowed to loopback, not {host}")


class NotifyConfig(_Strict, frozen=True):
    email: EmailConfig | None = None
    webhook: WebhookConfig | None = None
    # The lowest level that notifies: by default only alarms reach a phone at night.
    level: Literal["warning", "alarm"] = "alarm"
    # Also mail when an alarm clears (webhooks and digests always carry it).
    email_on_close: bool = False
    retry_min: Annotated[Duration, Range("1s", "1h")] = Duration("30s")
    retry_max: Annotated[Duration, Range("1s", "1d")] = Duration("30m")
    give_up_after: Annotated[Duration, Range("1m", "30d")] = Duration("7d")


class ReplaySourceConfig(_Strict, tag="replay", tag_field="kind", frozen=True):
    path: str
    loop: bool = True


class V4L2SourceConfig(_Strict, tag="v4l2", tag_field="kind", frozen=True):
    device: str = "/dev/video0"
    width: Annotated[int, msgspec.Meta(gt=0, le=7680)] = 1280
    height: Annotated[int, msgspec.Meta(gt=0, le=4320)] = 720
    fps: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    pixel_format: Literal["MJPEG", "YUYV"] = "MJPEG"


class AVSourceConfig(_Strict, tag="av", tag_field="kind", frozen=True):
    url: str  # rtsp://... or a video file path
    timeout: Annotated[Duration, Range("1s", "10m")] = Duration("10s")


SourceConfig = ReplaySourceConfig | V4L2SourceConfig | AVSourceConfig


class TriggerConfig(_Strict, frozen=True):
    doors: list[str] = []  # door ids that trigger this camera; empty means every door
    # "off": no capture on opening, or on closing.
    door_open_delay: Annotated[DurationOrOff, Range("0s", "10m")] = DurationOrOff("2s")
    door_close_settle: Annotated[DurationOrOff, Range("0s", "10m")] = DurationOrOff("3s")
    times: list[TimeOfDay] = []  # local times of day, "HH:MM"


class StreamConfig(_Strict, frozen=True):
    fps: Annotated[float, msgspec.Meta(gt=0, le=30)] = 5.0
    still_interval: Annotated[Duration, Range("1s", "1d")] = Duration("60s")
    analyser_queue: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4


class ReplayDepthConfig(_Strict, tag="replay", tag_field="kind", frozen=True):
    path: str  # a folder of 16-bit PNG depth frames, replayed in name order
    units_mm: Annotated[float, msgspec.Meta(gt=0, le=100)] = 1.0


class V4L2DepthConfig(_Strict, tag="v4l2", tag_field="kind", frozen=True):
    """A depth camera's Z16 stream through the kernel's UVC driver (RealSense, Orbbec),
    aligned to the colour camera by the device."""

    device: str = "/dev/video2"
    width: Annotated[int, msgspec.Meta(gt=0, le=2048)] = 848
    height: Annotated[int, msgspec.Meta(gt=0, le=2048)] = 480
    units_mm: Annotated[float, msgspec.Meta(gt=0, le=100)] = 1.0


DepthConfig = ReplayDepthConfig | V4L2DepthConfig


class ClipConfig(_Strict, frozen=True):
    """How a research camera records clips while someone is in its study's area."""

    fps: Annotated[float, msgspec.Meta(ge=1, le=30)] = 15.0
    # Each clip is cut after this long; a shorter one ends when the area empties.
    seconds: Annotated[Duration, Range("5s", "10m")] = Duration("60s")
    # Recording goes on this long after the last person left the area.
    linger: Annotated[Duration, Range("0s", "1m")] = Duration("3s")
    # The share of the picture a person must cover inside the area to count as there.
    min_presence: Annotated[float, msgspec.Meta(ge=0.0005, le=0.2)] = 0.002


Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Point = tuple[Fraction, Fraction]


class CountingConfig(_Strict, frozen=True):
    """Visitor counting on a floor camera's stream: people crossing a line, counted per 15
    minutes from the redactor's person regions (no face, no template: ``anonymous``)."""

    # Two points, fractions of the picture. Stand at the first looking at the second:
    # crossing from the left to the right is coming in (drawn left to right across a
    # door at the top of the picture, walking down the picture is coming in).
    line: tuple[Point, Point]
    # dedup: also how many of the day's faces were new and how many came back, from
    # binary templates under a key that dies at midnight (its own gate; [faces] extra).
    mode: Literal["anonymous", "dedup"] = "anonymous"
    # Where staff badge in (a polygon): a person seen there is not counted at all.
    staff_zone: list[Point] = []
    # A crossing counts once the feet are this far (share of the picture's height) past
    # the line: someone standing on it is not counted over and over.
    hysteresis: Annotated[float, msgspec.Meta(ge=0.0, le=0.2)] = 0.02

    def __post_init__(self) -> None:
        (x0, y0), (x1, y1) = self.line
        if abs(x1 - x0) + abs(y1 - y0) < 0.05:
            raise ValueError("line: its two points must be apart (a share of the picture)")
        if self.staff_zone and len(self.staff_zone) < 3:
            raise ValueError("staff_zone: a polygon needs at least three points")


class RedactionConfig(_Strict, frozen=True):
    """How a camera's pictures are redacted. What is looked for follows from the camera's
    purpose (``veilcam.vision.subjects``); configuration can only add protection
    or change its look."""

    mode: Literal["fill", "pixelate", "blur"] = "fill"
    # Face boxes grow about their centre by this factor; 1.5 is the product's floor.
    face_growth: Annotated[float, msgspec.Meta(ge=1.5, le=4.0)] = 2.0
    # The smallest face (pixels wide) to find: smaller finds more and takes more time; the
    # product looks for 20-pixel faces at least, so it cannot be set larger.
    min_face_px: Annotated[int, msgspec.Meta(ge=10, le=20)] = 20
    # Hands (palm detection) on a camera whose purpose does not redact them already.
    hands: bool = False
    # A change against the calibrated reference picture above this per-channel difference
    # is redacted (fridge cameras with a reference only).
    reference_threshold: Annotated[int, msgspec.Meta(ge=5, le=255)] = 40


class VisionConfig(_Strict, frozen=True):
    board: str = "generic"  # a profile in board/profiles, or a path to one
    models_dir: str = ""  # default: $VEILCAM_MODELS or ~/.cache/veilcam/models


class CameraConfig(_Strict, frozen=True):
    name: Name
    # fridge: everything human; floor: whole people; research: faces and heads only,
    # bodies kept (needs ``research_basis``).
    purpose: Literal["fridge", "floor", "research"]
    source: SourceConfig
    triggers: TriggerConfig = TriggerConfig()
    stream: StreamConfig | None = None
    # Research cameras only: the clips recorded for a running study, and a depth stream
    # aligned to this camera, recorded beside them.
    clips: ClipConfig = ClipConfig()
    depth: DepthConfig | None = None
    jpeg_quality: Annotated[int, msgspec.Meta(ge=30, le=95)] = 85
    # Larger frames are refused (fail closed) rather than risking memory or time limits.
    max_pixels: Annotated[int, msgspec.Meta(gt=0, le=7680 * 4320)] = 3840 * 2160
    grab_timeout: Annotated[Duration, Range("1s", "10m")] = Duration("10s")
    redaction: RedactionConfig = RedactionConfig()
    # The legal basis on which a research camera keeps bodies visible (the store's recorded
    # decision, e.g. "consent, study notice at the entrance, DPIA 2026-03"); required there.
    research_basis: str = ""
    # A floor camera at the entrance whose faces are compared with the watchlist, in memory,
    # before redaction (only while the watchlist gate is open; needs the [faces] extra).
    watchlist: bool = False
    # A floor camera with a stream that counts visitors crossing a line.
    counting: CountingConfig | None = None


class StockConfig(_Strict, frozen=True):
    """Stock monitoring of fridge cameras that have a planogram (``docs/stock.md``)."""

    # Stills older than this are left out of the restock list: it shows what is current.
    stale_after: Annotated[Duration, Range("10m", "7d")] = Duration("4h")
    # A facing seen empty in every still for this long raises a warning, for the second an
    # alarm (stock alerts notify like any other, from ``notify.level`` up).
    empty_warning_after: Annotated[Duration, Range("1m", "7d")] = Duration("30m")
    empty_alarm_after: Annotated[Duration, Range("1m", "30d")] = Duration("2h")
    # Planogram compliance (facings holding their product / facings seen) under this share
    # for ``compliance_after`` raises a warning.
    compliance_below: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.8
    compliance_after: Annotated[Duration, Range("1m", "7d")] = Duration("1h")
    # A facing filled less than this share is on the restock list (empty ones always are).
    restock_below: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.5


class PrivacyConfig(_Strict, frozen=True):
    # Shoppers' requests are answered within this many days of receipt: the stores'
    # policies promise 7, so a configuration may shorten it, never lengthen it.
    request_days: Annotated[int, msgspec.Meta(ge=1, le=7)] = 7
    # A request's due date shows as a warning this long before it (and in a daily email).
    warn_before: Annotated[Duration, Range("1h", "6d")] = Duration("2d")
    # A disclosure record allows exporting its items for this long after it is made.
    disclosure_valid: Annotated[Duration, Range("10m", "7d")] = Duration("24h")
    # The notice to shoppers (/privacy and the printed A4) is made from these.
    controller: Annotated[str, msgspec.Meta(max_length=300)] = ""
    contact: Annotated[str, msgspec.Meta(max_length=300)] = ""
    stills_basis: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] = (
        "legitimate interest (GDPR Art. 6(1)(f)): food safety, stock and the shop's safety"
    )
    notice_languages: Annotated[
        list[Literal["en", "nl"]], msgspec.Meta(min_length=1, max_length=2)
    ] = msgspec.field(default_factory=lambda: ["en", "nl"])
    # Where the notice's QR code points: empty for this appliance's own /privacy page, on
    # notice_http_port when set, else on the web UI.
    notice_url: Annotated[str, msgspec.Meta(max_length=300)] = ""
    # The notice alone, read-only over plain HTTP on the shop's network, for phones that
    # would balk at the appliance's own certificate. Off when absent.
    notice_http_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    notice_http_host: str = "0.0.0.0"

    def __post_init__(self) -> None:
        if self.notice_url and urllib.parse.urlsplit(self.notice_url).scheme not in (
            "http",
            "https",
        ):
            raise ValueError(f"notice_url must be an http or https URL, not {self.notice_url!r}")
        if len(set(self.notice_languages)) != len(self.notice_languages):
            raise ValueError("notice_languages lists a language twice")


class UploadsConfig(_Strict, frozen=True):
    """Where research clips go: the chain's S3-compatible object storage."""

    endpoint: str  # https://s3.example.com (http only on loopback)
    bucket: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    # A TOML file with access_key_id and secret_access_key, readable only by veilcam.
    credentials_file: str
    region: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9-]{1,40}$")] = "us-east-1"
    # Objects go under this prefix (default: the site's name and a slash).
    prefix: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._/-]{0,100}$")] = ""
    retry_min: Annotated[Duration, Range("1s", "1h")] = Duration("10s")
    retry_max: Annotated[Duration, Range("1m", "1d")] = Duration("15m")
    # Ask the bucket to expire the prefix's objects after 30 days as well, where the
    # server supports lifecycle rules (the ledger deletes them in any case).
    lifecycle: bool = True
    # Each clip's events and pose landmarks beside it: JSON Lines, or Apache Parquet
    # (needs pyarrow: pip install veilcam[parquet]).
    events_format: Literal["jsonl", "parquet"] = "jsonl"

    def __post_init__(self) -> None:
        if self.events_format == "parquet" and importlib.util.find_spec("pyarrow") is None:
            raise ValueError(
                "events_format = parquet needs pyarrow, which is not installed:"
                " pip install 'veilcam[parquet]'"
            )
        url = urllib.parse.urlsplit(self.endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"endpoint must be an http(s) URL, not {self.endpoint!r}")
        if url.scheme == "http" and url.hostname not in LOOPBACK:
            raise ValueError(
                f"uploads over plain HTTP only to loopback, not {url.hostname}: use https"
            )
        if self.retry_max < self.retry_min:
            raise ValueError("retry_max must not be shorter than retry_min")


class WebConfig(_Strict, frozen=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8080
    # HTTPS with a certificate made on first start; plain HTTP only on loopback.
    tls: bool = True
    session_idle: Annotated[Duration, Range("1m", "1d")] = Duration("30m")
    session_max: Annotated[Duration, Range("10m", "30d")] = Duration("12h")
    password_max_age: Annotated[Duration, Range("1d", "365d")] = Duration("90d")
    # Administrators' passwords expire sooner (never later than password_max_age).
    admin_password_max_age: Annotated[Duration, Range("1d", "90d")] = Duration("60d")
    # Failed sign-ins from one address (or on one account from it) before each next try
    # waits 1 s, 2 s, 4 s ... up to login_max_delay. No account is ever locked.
    login_free_tries: Annotated[int, msgspec.Meta(ge=3, le=20)] = 5
    login_max_delay: Annotated[Duration, Range("1s", "15m")] = Duration("60s")
    # A connection that has not sent a whole request's headers this long after it opened
    # (or after its last answer) is closed: slow clients cannot hold connections open.
    header_timeout: Annotated[Duration, Range("1s", "1m")] = Duration("15s")

    def __post_init__(self) -> None:
        if not self.tls and self.host not in LOOPBACK:
            raise ValueError(
                f"plain HTTP is only allowed on loopback ({', '.join(LOOPBACK)}), not on "
                f"{self.host}: set tls = true"
            )


class SharingConfig(_Strict, frozen=True):
    """Shared use of watchlist entries within a named group of sites (off unless set): the
    items the notice must name, and the group's key."""

    # 32 bytes the group's sites share (made once: head -c 32 /dev/urandom), 0600.
    chain_key_file: str
    group: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # who shares
    purpose: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    responsible: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]  # who answers
    data: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] = (
        "face templates (no photos), incident reference and category, expiry date"
    )


class EmbedderConfig(_Strict, frozen=True):
    """An operator-supplied face embedding model (TFLite or ONNX) instead of dlib's: named by
    path and SHA-256 (refused if the file differs), with how to feed it and its calibrated
    threshold. Templates carry ``model_id``; those of different models are never compared."""

    model_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    path: str
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$")]
    size: Annotated[int, msgspec.Meta(ge=32, le=512)]  # the square chip's side, pixels
    threshold: Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)]  # cosine: same person at or above
    mean: float = 127.5  # the model sees (pixel - mean) / std
    std: Annotated[float, msgspec.Meta(gt=0.0)] = 128.0
    padding: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.25  # round dlib's mean face
    rgb: bool = True  # false: the model wants BGR


class WatchlistConfig(_Strict, frozen=True):
    sharing: SharingConfig | None = None
    embedder: EmbedderConfig | None = None  # default: dlib's ResNet ([faces] extra)


class Config(_Strict, frozen=True):
    site: Name = "store"
    data_dir: str = "/var/lib/veilcam"
    sensors: SensorConfig | None = None
    cameras: list[CameraConfig] = []
    cabinets: list[CabinetConfig] = []
    retention: RetentionConfig = RetentionConfig()
    storage: StorageConfig = StorageConfig()
    web: WebConfig | None = None
    vision: VisionConfig = VisionConfig()
    notify: NotifyConfig = NotifyConfig()
    stock: StockConfig = StockConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    uploads: UploadsConfig | None = None
    watchlist: WatchlistConfig = WatchlistConfig()
    mqtt: MqttConfig | None = None  # fleet telemetry to the chain's broker (docs/fleet.md)

    def camera(self, name: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.name == name:
                return cam
        known = ", ".join(c.name for c in self.cameras) or "none configured"
        raise ConfigError(f"no camera named {name!r} (cameras: {known})")
