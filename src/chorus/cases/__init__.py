"""Cases: intake, blame-free classification, artifacts, linking into series."""
