"""ccms: a contact-center monitoring service compatible with the CC-CMS open API."""

__version__ = "0.1.0"
