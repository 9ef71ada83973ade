"""The one exception type that means "the user's input is wrong"."""


class UserError(Exception):
    """Bad input, config or file: the CLI prints its message on one line and exits with code 2."""


class MediaError(UserError):
    """A media file that cannot be read (missing, empty, corrupt, no usable stream): a dataset scan skips the
    clip; a command given that file exits 2."""
