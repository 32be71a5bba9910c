"""Errors that cross layers: raised by the web shell's Redis access, caught by pages and routes alike.

Its own module (and not dispatch/ui or dispatch/web) so that both can import it without importing each other.
"""


class PictureUnavailable(RuntimeError):
    """The current picture cannot be read now; the message says why, for a person."""
