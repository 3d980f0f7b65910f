"""One module per group of subcommands; cli.py dispatches to them."""
