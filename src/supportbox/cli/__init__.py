"""The ``supportbox`` command: one module per family of subcommands."""
