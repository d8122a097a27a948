"""Redaction: every frame painted over where people are before anything is kept; it fails
closed."""
