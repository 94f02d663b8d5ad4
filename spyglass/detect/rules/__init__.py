"""One module per rule. Each ``detect`` is pure: inputs in, findings out."""
