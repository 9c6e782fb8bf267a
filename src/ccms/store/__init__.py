"""Storage: the Store protocol (base), its backends, and the URL that chooses one."""
