"""One module per `rtpath` subcommand group; each adds its parser and its handlers."""
