"""Local stand-ins for the Azure services Spyglass uses (development and tests only)."""
