"""Azure Functions adapter, a leaf: blueprints call the spyglass core (the wire formats: spyglass.wire)."""
