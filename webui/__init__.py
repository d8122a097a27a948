"""Templates and static assets of the web UI (no build step), shipped as package data of
``veilcam.webui`` and found by ``veilcam.web.app``."""
