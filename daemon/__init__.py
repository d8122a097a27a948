"""veilcam: privacy-first camera appliance for shops."""

__version__ = "0.1.0"
