"""The Spyglass Pulumi program, one module per concern (see infra/README.md)."""
