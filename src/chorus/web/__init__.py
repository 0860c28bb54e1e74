"""HTTP edge: the FastAPI app factory. Thin: parse, call a service, map errors."""
