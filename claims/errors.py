"""One root exception for everything Stadtkasse raises on purpose, and ``ConfigError`` defined once.

Callers that only want to know "did Stadtkasse refuse this?" catch :class:`KasseError`; the CLI maps the
subclasses to exit codes. Third-party exceptions are mapped at the boundary that meets them and chained
with ``from``.

>>> issubclass(ConfigError, KasseError) and issubclass(ConfigError, ValueError)
True
"""

from __future__ import annotations


class KasseError(Exception):
    """Root of every exception Stadtkasse raises on purpose."""


class ConfigError(KasseError, ValueError):
    """A tenant config (or another setting) cannot be used: the message names the file, key and value."""
