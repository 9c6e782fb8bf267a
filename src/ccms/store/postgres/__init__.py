"""The PostgreSQL store: several ccms nodes on one database (see :mod:`.store`).

Importing it needs asyncpg, the optional ``postgres`` extra.
"""

from ccms.store.postgres.store import PostgresStore, redact

__all__ = ["PostgresStore", "redact"]
