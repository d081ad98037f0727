"""The one exception type the CLI turns into a one-line message and exit code 2."""


class DeepStegError(Exception):
    """Bad input or a failed operation a user can fix (missing file, bad weights, ...)."""
