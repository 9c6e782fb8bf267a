"""Settings: one frozen, typed object built from defaults < TOML file < ``CCMS_*`` < flags.

Every setting is declared once in :data:`SETTINGS` with its name, type, default and help.
That table feeds ``ccms serve --help`` and ``docs/settings.md``; a test fails when one is
undocumented. ``environ`` is always passed in; :func:`process_environ` is the one place
ccms reads the process environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccms.errors import CCMSError
from ccms.tomlkeys import key_line, unknown_key


class SettingsError(CCMSError):
    """A setting has a value ccms cannot use; the server refuses to start."""


class Names(tuple[str, ...]):
    """A list setting: a TOML list of strings, or one comma-separated string (a flag, a
    ``CCMS_*`` variable). Blank items are dropped."""

    def __new__(cls, value: str | Iterable[str] = ()) -> Names:
        items = value.split(",") if isinstance(value, str) else value
        return super().__new__(cls, tuple(item.strip() for item in items if item.strip()))

    def __repr__(self) -> str:
        return repr(list(self))


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    metavar: str = "N"  # what the flag's value is, in ``--help`` (``--port PORT``)
    choices: tuple[str, ...] = ()  # the only values allowed, matched whatever their case

    @property
    def env(self) -> str:
        return "CCMS_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Address to listen on.", metavar="HOST"),
    Setting(
        "port", int, 28080, "TCP port to listen on (the vendor's CC-CMS port).", metavar="PORT"
    ),
    Setting(
        "store",
        str,
        "sqlite:///ccms.db",
        "Store URL: sqlite:///PATH (a file, created when missing) or postgresql://...",
        metavar="URL",
    ),
    Setting(
        "credentials",
        str,
        "",
        "TOML file of access keys ([[access_key]] ak, sk, roles, scopes). Required by serve.",
        metavar="FILE",
    ),
    Setting(
        "allow_open_credentials",
        bool,
        False,
        "Start even when group or others may read the credentials file (a warning, not a refusal).",
    ),
    Setting(
        "allowed_hosts",
        Names,
        Names(),
        "Host values a signature may name (comma-separated; 'name' for any port,"
        " 'name:port' for one; empty: any). Others get HTTP 401.",
        metavar="HOSTS",
    ),
    Setting(
        "tls_cert",
        str,
        "",
        "PEM certificate file: serve HTTPS, as the vendor does.",
        metavar="FILE",
    ),
    Setting("tls_key", str, "", "PEM private key file for --tls-cert.", metavar="FILE"),
    Setting("workers", int, 1, "Server processes sharing the store and the port."),
    Setting(
        "insecure_http",
        bool,
        False,
        "Allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy).",
    ),
    Setting(
        "large_work_numbers",
        bool,
        False,
        "Also admit agent work numbers 70000..999999, as newer vendor versions do.",
    ),
    Setting(
        "clock_skew",
        int,
        900,
        "Seconds a signed request's timestamp may differ from the server clock.",
        metavar="SECONDS",
    ),
    Setting(
        "max_body_bytes",
        int,
        1_048_576,
        "Largest body accepted on query routes (HTTP 413).",
        metavar="BYTES",
    ),
    Setting(
        "max_events_body_bytes",
        int,
        8_388_608,
        "Largest body accepted by POST /ccms/v1/events (HTTP 413).",
        metavar="BYTES",
    ),
    Setting("max_events_per_batch", int, 10_000, "Most events in one intake request."),
    # -- HTTP limits: the connection before the application (docs/security.md) ----------
    Setting(
        "max_header_bytes",
        int,
        16_384,
        "Largest request line and headers, in bytes (HTTP 431 past it).",
    ),
    Setting(
        "header_timeout",
        float,
        10.0,
        "Seconds a client has to send a request's headers, from connecting or from the"
        " request's first byte (HTTP 408, or a close when nothing came).",
    ),
    Setting(
        "body_timeout",
        float,
        30.0,
        "Seconds a request's body may take to arrive after its headers (HTTP 408).",
    ),
    Setting(
        "keep_alive_timeout",
        float,
        5.0,
        "Seconds an idle keep-alive connection stays open between requests.",
    ),
    Setting(
        "max_connections",
        int,
        1024,
        "Connections one server process holds at once; a connection past them gets HTTP"
        " 503 (lowered to fit the file-descriptor limit, less 64 kept for the process).",
    ),
    # -- end of the HTTP limits ---------------------------------------------------------
    Setting(
        "rate_limit",
        float,
        0.0,
        "Requests per second allowed per access key and process (0: no limit); HTTP 429 past it.",
        metavar="RATE",
    ),
    Setting("rate_burst", int, 100, "Requests an access key may send at once above --rate-limit."),
    Setting(
        "large_body_failures",
        int,
        10,
        "Signatures that do not match over bodies larger than 64 KiB one client address"
        " may send a minute; past them its large bodies get HTTP 429 before they are read"
        " (0: no limit).",
    ),
    Setting(
        "event_id_retention_days",
        int,
        7,
        "Days an applied eventId is remembered for de-duplication.",
        metavar="DAYS",
    ),
    Setting(
        "call_record_days",
        int,
        2,
        "Days of call records kept, today included (2: today and yesterday, UTC), 1 to 366;"
        " older records, and live calls not heard of since, are dropped.",
        metavar="DAYS",
    ),
    # The live stream's replay window: how long the change log keeps changes.
    Setting(
        "stream_window_s",
        int,
        900,
        "Seconds the change log keeps each change for stream clients to resume from;"
        " an older cursor gets a reset and a fresh snapshot.",
        metavar="SECONDS",
    ),
    Setting(
        "stream_window_changes",
        int,
        1_000_000,
        "Most changes the change log keeps, however recent (the oldest go first).",
    ),
    Setting(
        "sqlite_synchronous",
        str,
        "FULL",
        "SQLite synchronous mode: FULL (an acknowledged batch survives power loss) or NORMAL.",
        metavar="MODE",
        choices=("FULL", "NORMAL", "EXTRA"),
    ),
    Setting("sqlite_readers", int, 2, "SQLite reader connections for batch and list queries."),
    Setting(
        "sqlite_mmap_mb",
        int,
        256,
        "MiB of the SQLite file read through memory mapping (0: off); it halves the cost of a"
        " point read on a store of a million agents.",
        metavar="MIB",
    ),
    Setting("pg_pool_size", int, 10, "PostgreSQL connections per server process (pool size)."),
    Setting(
        "pg_command_timeout",
        float,
        5.0,
        "Seconds a PostgreSQL query, connection or wait for a pooled connection may take"
        " before the request gets HTTP 503.",
        metavar="SECONDS",
    ),
    Setting(
        "log_level",
        str,
        "info",
        "Log level: debug, info, warning, error.",
        metavar="LEVEL",
        choices=("debug", "info", "warning", "error"),
    ),
    Setting(
        "log_format",
        str,
        "text",
        "Log lines of ccms and uvicorn alike: text, or json (one JSON object a line).",
        metavar="FORMAT",
        choices=("text", "json"),
    ),
    Setting(
        "access_log",
        bool,
        False,
        "Log every request (client, method, path, HTTP status) at level info.",
    ),
    # -- the live stream: GET /ccms/v1/stream, GET /ccms/v1/changes, view tokens --------
    Setting(
        "stream_heartbeat_s",
        float,
        15.0,
        "Seconds of silence after which a stream sends a heartbeat comment (and an id-only"
        " bookmark when changes outside its filter moved the sequence).",
        metavar="SECONDS",
    ),
    Setting(
        "stream_queue",
        int,
        2000,
        "Changes a stream subscriber may have waiting; past it the subscriber gets a"
        " slow-consumer reset and is closed.",
    ),
    Setting(
        "stream_max_per_key",
        int,
        1000,
        "Open streams and waiting long-polls per access key and process (HTTP 429 past it).",
    ),
    Setting(
        "view_token_ttl_s",
        int,
        43200,
        "Default lifetime of a view token (POST /ccms/v1/tokens), in seconds.",
        metavar="SECONDS",
    ),
    Setting(
        "view_token_max_ttl_s",
        int,
        86400,
        "Longest lifetime a view token may ask for (ttlS), in seconds.",
        metavar="SECONDS",
    ),
    Setting(
        "credentials_reload_s",
        float,
        2.0,
        "Seconds between checks of the credentials file for changes; a changed file is read"
        " again, a removed key's streams and view tokens end (0: read once, at start).",
        metavar="SECONDS",
    ),
    Setting(
        "flags_file",
        str,
        "",
        "TOML file of the flags' thresholds per VDN and skill queue (an empty file: the"
        " documented defaults; no file: no flags); read again on SIGHUP.",
        metavar="FILE",
    ),
    Setting(
        "service_quality_interval_s",
        float,
        1.0,
        "Seconds between two skill/servicequality calls of an access key (per process; the"
        " vendor's limit: once per second); a call sooner gets HTTP 429. 0: no limit.",
        metavar="SECONDS",
    ),
    Setting(
        "cc_config_file",
        str,
        "",
        "TOML file of the skill queues' limits (skill/skillcfginfo), the access codes' ids"
        " (vdn/queryaccesscodecallinfo) and the names of the busy and rest reason codes"
        " (the wallboard); no file: the documented defaults; read again on SIGHUP.",
        metavar="FILE",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 28080
    store: str = "sqlite:///ccms.db"
    credentials: str = ""
    allow_open_credentials: bool = False
    allowed_hosts: tuple[str, ...] = ()
    tls_cert: str = ""
    tls_key: str = ""
    workers: int = 1
    insecure_http: bool = False
    large_work_numbers: bool = False
    clock_skew: int = 900
    max_body_bytes: int = 1_048_576
    max_events_body_bytes: int = 8_388_608
    max_events_per_batch: int = 10_000
    # HTTP limits
    max_header_bytes: int = 16_384
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = 1024
    # end of the HTTP limits
    rate_limit: float = 0.0
    rate_burst: int = 100
    large_body_failures: int = 10
    event_id_retention_days: int = 7
    call_record_days: int = 2
    stream_window_s: int = 900
    stream_window_changes: int = 1_000_000
    sqlite_synchronous: str = "FULL"
    sqlite_readers: int = 2
    sqlite_mmap_mb: int = 256
    pg_pool_size: int = 10
    pg_command_timeout: float = 5.0
    log_level: str = "info"
    log_format: str = "text"
    access_log: bool = False
    # the live stream
    stream_heartbeat_s: float = 15.0
    stream_queue: int = 2000
    stream_max_per_key: int = 1000
    view_token_ttl_s: int = 43200
    view_token_max_ttl_s: int = 86400
    credentials_reload_s: float = 2.0
    flags_file: str = ""
    service_quality_interval_s: float = 1.0
    cc_config_file: str = ""

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)


def _coerce(setting: Setting, value: object, source: str) -> object:
    value = _typed(setting, value, source)
    if setting.choices:
        chosen = {choice.lower(): choice for choice in setting.choices}.get(str(value).lower())
        if chosen is None:
            raise SettingsError(
                f"{setting.name} ({source}) must be one of {', '.join(setting.choices)},"
                f" got {value!r}"
            )
        return chosen
    return value


def _typed(setting: Setting, value: object, source: str) -> object:
    kind = setting.type
    if kind is Names and isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise SettingsError(f"{setting.name} ({source}) must be a list of strings")
        return Names(value)
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        if kind is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off", ""):
                return False
            raise SettingsError(f"{setting.name} ({source}) must be true or false, got {value!r}")
        try:
            return kind(text)
        except ValueError:
            raise SettingsError(
                f"{setting.name} ({source}) must be {kind.__name__}, got {value!r}"
            ) from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError(f"{setting.name} ({source}) must be {kind.__name__}, got {value!r}")
    return value


def load_settings(
    environ: Mapping[str, str],
    overrides: Mapping[str, object] | None = None,
    config_file: str | None = None,
) -> Settings:
    """Build settings: defaults < TOML ``config_file`` (or ``CCMS_CONFIG``) < env < overrides.

    ``overrides`` are the command-line flags that were given (``None`` values are ignored).
    """
    values: dict[str, object] = {}
    path = config_file or environ.get("CCMS_CONFIG")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read config file {path}: {exc}") from None
        for key, value in data.items():
            setting = _BY_NAME.get(key.replace("-", "_"))
            if setting is None:
                raise SettingsError(
                    unknown_key(key, _BY_NAME, path, key_line(text, key), noun="setting")
                )
            values[setting.name] = _coerce(setting, value, path)
    for setting in SETTINGS:
        if setting.env in environ:
            values[setting.name] = _coerce(setting, environ[setting.env], setting.env)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        values[key] = _coerce(_BY_NAME[key], value, _BY_NAME[key].flag)
    settings = Settings(**values)  # type: ignore[arg-type]
    _check(settings)
    return settings


def _check(s: Settings) -> None:
    if not 0 < s.port < 65536:
        raise SettingsError(f"port must be 1..65535, got {s.port}")
    if s.workers < 1:
        raise SettingsError(f"workers must be at least 1, got {s.workers}")
    if bool(s.tls_cert) != bool(s.tls_key):
        raise SettingsError("tls_cert and tls_key go together")
    if s.clock_skew < 1:
        raise SettingsError("clock_skew must be at least 1 second")
    for name in ("max_body_bytes", "max_events_body_bytes", "max_events_per_batch"):
        if getattr(s, name) < 1:
            raise SettingsError(f"{name} must be positive")
    if s.max_header_bytes < 1024:
        raise SettingsError("max_header_bytes must be at least 1024")
    for name in ("header_timeout", "body_timeout", "keep_alive_timeout"):
        if not getattr(s, name) > 0:
            raise SettingsError(f"{name} must be a positive number of seconds")
    if s.max_connections < 1:
        raise SettingsError("max_connections must be at least 1")
    if s.rate_limit < 0 or s.rate_burst < 1:
        raise SettingsError("rate_limit must be >= 0 and rate_burst >= 1")
    if s.large_body_failures < 0:
        raise SettingsError("large_body_failures must be 0 (no limit) or more")
    if s.event_id_retention_days < 1:
        raise SettingsError("event_id_retention_days must be at least 1")
    if not 1 <= s.call_record_days <= 366:
        raise SettingsError("call_record_days must be from 1 to 366")
    if s.stream_window_s < 1 or s.stream_window_changes < 1:
        raise SettingsError("stream_window_s and stream_window_changes must be at least 1")
    if s.sqlite_mmap_mb < 0:
        raise SettingsError("sqlite_mmap_mb must be 0 or more")
    if s.sqlite_readers < 1:
        raise SettingsError("sqlite_readers must be at least 1")
    for host in s.allowed_hosts:
        if any(c.isspace() or c in "/@,?#" for c in host):
            raise SettingsError(f"allowed_hosts: {host!r} is not a host or host:port")
    if s.pg_pool_size < 1 or s.pg_command_timeout <= 0:
        raise SettingsError("pg_pool_size must be at least 1 and pg_command_timeout positive")
    _check_stream(s)


def _check_stream(s: Settings) -> None:
    if s.stream_heartbeat_s <= 0:
        raise SettingsError("stream_heartbeat_s must be positive")
    if s.stream_queue < 1 or s.stream_max_per_key < 1:
        raise SettingsError("stream_queue and stream_max_per_key must be at least 1")
    if not 1 <= s.view_token_ttl_s <= s.view_token_max_ttl_s:
        raise SettingsError("view_token_ttl_s must be from 1 to view_token_max_ttl_s")
    if s.credentials_reload_s < 0:
        raise SettingsError("credentials_reload_s must be 0 (off) or positive")
    if not 0 <= s.service_quality_interval_s <= 3600:
        raise SettingsError("service_quality_interval_s must be from 0 (no limit) to 3600")


def to_environ(settings: Settings) -> dict[str, str]:
    """The ``CCMS_*`` variables that rebuild ``settings`` (for worker processes)."""
    out = {}
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if setting.type is bool:
            out[setting.env] = "true" if value else "false"
        elif setting.type is Names:
            out[setting.env] = ",".join(value)
        else:
            out[setting.env] = str(value)
    return out


def process_environ() -> Mapping[str, str]:
    """The process environment. ccms reads it here alone: the command line hands it down as
    ``environ``, and a worker process, which has no other input, rebuilds its settings from
    it (``ccms.server.app_from_environ``)."""
    return os.environ


@contextlib.contextmanager
def exported(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` in the process environment for the block, for the worker processes
    started in it to inherit; the previous values come back after."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def defaults_match_table() -> bool:
    """True when the dataclass defaults equal the table's (checked by a test)."""
    fields = {f.name: f.default for f in dataclasses.fields(Settings)}
    return fields == {s.name: s.default for s in SETTINGS}


def settings_markdown() -> str:
    """The settings table of ``docs/settings.md`` (a test keeps the two equal)."""
    lines = [
        "| setting | flag | environment | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = repr(s.default) if s.type in (str, Names) else str(s.default).lower()
        lines.append(f"| `{s.name}` | `{s.flag}` | `{s.env}` | `{default}` | {s.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(settings_markdown(), end="")
