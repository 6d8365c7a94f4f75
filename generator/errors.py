"""The one error type users see: a single line naming the problem, never a traceback."""


class UserError(Exception):
    """Bad input or an unmet precondition; the CLI prints `error: <message>` and exits non-zero."""

    exit_code = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so staging folders are removed like on Ctrl-C."""


class StageFailed(UserError):
    """A stage could not finish for a reason outside the user's input (disk full, permissions)."""

    exit_code = 1
