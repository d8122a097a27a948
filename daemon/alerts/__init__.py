"""Alerts shared by every source: episodes that open, change level and close
(``episodes``), their rows and acknowledgement (``records``), the recorder that stores them
with their notices and never drops one (``recorder``), and the notification outbox that
delivers those notices by email and webhook (``outbox``).

The cold chain and stock monitoring are sources; later ones (privacy deadlines, the
watchlist, the fleet) plug in the same way: a :class:`~veilcam.alerts.episodes.Source`
saying how to name their subjects and rules, and transitions handed to a ``Recorder``."""
