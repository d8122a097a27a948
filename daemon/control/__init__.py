"""The daemon's local control socket: the server and its client."""
