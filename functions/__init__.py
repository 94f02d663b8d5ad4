"""Azure Functions adapters: blueprints call the spyglass core; storage and wire formats live here."""
