"""Shop-floor research: studies, and what their recorders keep (issue 18)."""
