"""The local web server. For now: the status page and its JSON, with no personal data."""
