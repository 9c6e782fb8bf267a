"""Event sources that post to ccms through the client, and the delivery they share.

A source (:class:`EventSource`: the simulated floor today, a CTI adapter next) produces
runs of intake events; a :class:`Feed` delivers them through
:class:`~ccms.client.AsyncClient` in batches, retrying until each is acknowledged, with a
progress line and a clean stop. See :mod:`ccms.feeds.delivery`.
"""

from ccms.feeds.delivery import Event, EventSource, Feed, FeedStats
from ccms.feeds.simulated import Schedule, SimulatedSource

__all__ = ["Event", "EventSource", "Feed", "FeedStats", "Schedule", "SimulatedSource"]
