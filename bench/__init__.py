"""`make bench`: the full-sync engine measured against the sandboxes (see bench/__main__.py)."""
