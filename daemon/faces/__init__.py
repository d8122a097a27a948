"""The face features, each behind its own feature gate: the loss-prevention watchlist two
administrators run (``watchlist``) and, to come, visitor counting."""
