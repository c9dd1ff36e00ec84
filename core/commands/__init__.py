"""Subcommands of the `partita` command line; see `core.cli`."""
