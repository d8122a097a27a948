"""The supervisor: the application context, services started in order and stopped in reverse,
the control-socket commands, systemd's notify protocol."""
