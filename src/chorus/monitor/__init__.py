"""Monitor: find re-uploads on sites no partner covers, capture them, re-check removals."""
