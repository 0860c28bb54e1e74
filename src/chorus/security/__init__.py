"""Authentication and authorisation: API keys (partners), later sessions and PINs."""
