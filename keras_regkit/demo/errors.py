"""The demo's one error type."""


class DemoError(Exception):
    """A problem with the user's flags or files: one line, exit status 2."""
