"""Capture: camera sources, triggers and streams, through redaction into the store."""
