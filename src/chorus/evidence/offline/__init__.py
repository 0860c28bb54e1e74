"""Offline verification of evidence bundles (standard library only; shipped in each bundle)."""
