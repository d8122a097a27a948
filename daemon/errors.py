"""One exception base; each subclass also inherits the builtin it specialises."""


class VeilcamError(Exception):
    """Base of every error veilcam raises on purpose."""


class ConfigError(VeilcamError, ValueError):
    """The configuration file is missing, unreadable or invalid."""


class ProtocolError(VeilcamError, ValueError):
    """A sensor line that cannot be accepted; ``kind`` is the counted fault class."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class SensorLinkError(VeilcamError, OSError):
    """The serial link to the sensor board is unavailable."""


class SourceError(VeilcamError, OSError):
    """A camera source could not deliver a frame."""


class StoreError(VeilcamError, RuntimeError):
    """The database or the media store refused an operation."""


class MediaIntegrityError(StoreError):
    """An encrypted media file is missing, truncated or was altered."""


class NotifyError(VeilcamError, RuntimeError):
    """A notification could not be delivered (no recipient, a receiver that refused it)."""


class RedactionError(VeilcamError, RuntimeError):
    """Redaction could not run; the capture must fail closed."""


class ControlError(VeilcamError, OSError):
    """The running daemon could not be reached or refused a command."""


class ModelError(VeilcamError, RuntimeError):
    """A model file is missing, altered, or cannot be loaded; names the model and the file."""


class AccountError(VeilcamError, ValueError):
    """A user account change was refused; the message says why."""


class LoginRefused(VeilcamError, PermissionError):
    """A login was refused; ``reason`` is for the audit log, the message for the user."""

    def __init__(self, reason: str, message: str = "user name or password not accepted") -> None:
        super().__init__(message)
        self.reason = reason


class PrivacyRefused(VeilcamError, PermissionError):
    """A privacy operation or an export was refused: a missing disclosure record, a legal
    hold, a role that may not; the message names the missing decision."""


class CertificateError(VeilcamError, ValueError):
    """A certificate and key that cannot serve the web UI: not PEM, not a pair, expired."""


class FeatureClosed(PrivacyRefused):
    """A feature that processes people beyond redaction was asked to start while its gate
    is not open: no approved decision records its legal basis, purpose and signage."""

    def __init__(self, feature: str, why: str) -> None:
        super().__init__(f"{feature} is off: {why}")
        self.feature = feature
