"""``python -m edge.collector --source ibkr|sim|replay ...``: the collector image's entry point."""

from edge.collector.cli import main

main()
