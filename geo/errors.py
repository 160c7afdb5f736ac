"""The project's own error and warning types.

Pages and the CLI catch these and show their message as it is; any other exception is a bug.
"""


class InputError(ValueError):
    """A structural problem with user input: one sentence naming the file and the problem."""


class DataQualityWarning(UserWarning):
    """A recoverable problem in the data, with the fix in its message."""


class ConflictError(RuntimeError):
    """Someone else saved the same record first (optimistic locking)."""


class PermissionDenied(PermissionError):
    """The signed-in role may not perform this action."""
