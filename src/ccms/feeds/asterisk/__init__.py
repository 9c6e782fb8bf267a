"""The Asterisk AMI adapter: a real telephony source for ccms (``ccms adapter ami``).

The parts, from the socket to ccms:

- :mod:`~ccms.feeds.asterisk.protocol`: the AMI line protocol (frames, actions);
- :mod:`~ccms.feeds.asterisk.connection`: TCP or TLS, login, ``FullyBooted``, ``Ping``
  with a deadline, jittered reconnection, ``QueueStatus`` after every login and on an
  interval;
- :mod:`~ccms.feeds.asterisk.session`: what the frames mean (snapshots, boots, restarts
  told by ``Uptime``), the same for a live socket and a replay;
- :mod:`~ccms.feeds.asterisk.state`: the pure state of an agent over all its queue
  memberships, and its CTI status by the precedence of the mapping;
- :mod:`~ccms.feeds.asterisk.identity`: members to ``(ccId, vdn, agentId)``;
- :mod:`~ccms.feeds.asterisk.tracker`: frames to intake events, with stable ids;
- :mod:`~ccms.feeds.asterisk.calls`: the queues' calls to call events, ids from the
  ``Linkedid``;
- :mod:`~ccms.feeds.asterisk.spool`: the on-disk spool of events ccms has not acknowledged;
- :mod:`~ccms.feeds.asterisk.source`: the spool as an event source for the shared
  :class:`~ccms.feeds.delivery.Feed`;
- :mod:`~ccms.feeds.asterisk.transcript` and :mod:`~ccms.feeds.asterisk.replay`:
  ``--record`` and ``--replay``;
- :mod:`~ccms.feeds.asterisk.health`: ``/healthz`` and ``/metrics``;
- :mod:`~ccms.feeds.asterisk.config`: the TOML file; :mod:`~ccms.feeds.asterisk.runner`:
  one adapter process.

``docs/adapters/asterisk.md`` is the operator's guide.
"""

from ccms.feeds.asterisk.config import AdapterConfig, load_config, parse_config
from ccms.feeds.asterisk.runner import Adapter

__all__ = ["Adapter", "AdapterConfig", "load_config", "parse_config"]
