"""Errors a user can fix. The CLI prints them as one line and exits non-zero, never a traceback."""


class UserError(Exception):
    """A mistake in what the user asked for or gave us (bad option, unreadable file, unknown id)."""
