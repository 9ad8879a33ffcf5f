"""The one exception type the command line turns into a one-line error."""


class UserError(Exception):
    """Bad input from the user (file, name, number, checkpoint): message is one line."""
