"""The claims kernel: what every other package of Stadtkasse stands on, and which stands on nothing of ours.

The claim (receivable) and its debtor, the Kassenzeichen, money, the vocabularies, the root exception
and the tenant config (:mod:`claims.config`). Pure: imports only the standard library, Polars and
pydantic (the config's models), never another Stadtkasse package, never the store, never Prefect (the
architecture test and the import-linter contract check it).
"""

from claims.errors import ConfigError, KasseError

__all__ = ["ConfigError", "KasseError"]
