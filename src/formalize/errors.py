"""Errors that carry a message meant for the user (what went wrong and what to do)."""


class FormalizeError(Exception):
    """An error caused by input or setup; the CLI prints it without a traceback and exits 2."""


class InputError(FormalizeError):
    """Bad input data (a file that cannot be read, a missing field, ...)."""


class SetupError(FormalizeError):
    """Something the run needs is missing (Lean toolchain, model weights, a GPU, a package)."""
