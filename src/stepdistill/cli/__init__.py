"""The ``stepdistill`` command line: thin subcommands over the library."""
