"""Board files shipped with the daemon: the model manifest and board profiles."""
