"""Stores keep agents, their status history and the applied event ids."""

from ccms.store.base import IngestResult, Store, open_store

__all__ = ["IngestResult", "Store", "open_store"]
