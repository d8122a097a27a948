"""The demo store: a simulated sensor board, replay cameras over the pictures shipped in
``assets/``, and the daemon with its web UI, on real or simulated time."""
