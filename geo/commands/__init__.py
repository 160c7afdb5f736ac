"""Subcommands of the `lagesbild` CLI, one module each (see `geo.cli`)."""
