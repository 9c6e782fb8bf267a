"""Storage: the Store protocol (base), the change feed every backend shares (changes),
the backends (sqlite, postgres) and the URL that chooses one (backends)."""
