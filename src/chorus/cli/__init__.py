"""Command-line edge: Typer commands that parse input, call services and map errors."""
