"""Server-rendered HTML pages (Jinja2), thin like the API: no business rules here."""
