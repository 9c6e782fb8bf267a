"""Requests and answers on the wire, JSON <-> domain: ``fields`` (the rules every route
shares), ``agent`` (one agent) and ``monitor`` (the monitoring routes). The envelopes are in
``ccms.http.envelope``."""
