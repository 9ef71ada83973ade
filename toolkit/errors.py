"""The one exception type that means "the user's input is wrong"."""


class UserError(Exception):
    """Bad input, config or file: the CLI prints its message on one line and exits with code 2."""
