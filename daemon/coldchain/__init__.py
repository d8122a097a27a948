"""Cold-chain monitoring: each cabinet's limits, the alarm rules over its readings and door,
the alarm service that keeps their episodes, notifications from an outbox, daily reports."""
