"""Hash bank and matching: survivors' fingerprints, exact lookups, the partner feed."""
