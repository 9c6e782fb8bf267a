"""Client profiles: where to connect and with which keys.

Profiles live in ``$XDG_CONFIG_HOME/ccms/client.toml`` (``~/.config/ccms/client.toml``
when ``XDG_CONFIG_HOME`` is unset; ``CCMS_CLIENT_CONFIG`` names another file), one table
each:

    [profile.default]
    url = "https://cms.example.com:28443"
    ak = "globalaktest"
    sk_command = "pass show ccms/globalaktest"   # or: sk = "..."
    ca_bundle = "ca.pem"                          # relative to this file's folder
    timeout = 10

Each value comes from, in increasing precedence: the profile, the environment
(``CCMS_URL``, ``CCMS_AK``, ``CCMS_SK``, ``CCMS_CA_BUNDLE``), the caller's explicit
arguments (the command-line flags). The profile is the one named, else ``default``, else
the only one. ``environ`` is always passed in; the process environment is never read.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ccms.client.clients import DEFAULT_TIMEOUT, AsyncClient, Client, RetryHook
from ccms.client.errors import ConfigurationError
from ccms.client.retry import DEFAULT_RETRY_DEADLINE

DEFAULT_PROFILE = "default"
PROFILE_KEYS = frozenset({"url", "ak", "sk", "sk_command", "ca_bundle", "timeout"})
SK_COMMAND_TIMEOUT_S = 30.0
_NAME = re.compile(r"[A-Za-z0-9_-]+")

SecretRunner = Callable[[str], str]


@dataclass(frozen=True)
class Profile:
    """One ``[profile.NAME]`` table as written (``ca_bundle`` made absolute)."""

    name: str
    url: str | None = None
    ak: str | None = None
    sk: str | None = field(default=None, repr=False)
    sk_command: str | None = None
    ca_bundle: str | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class ClientConfig:
    """Everything needed to build a client; ``profile`` names where it came from."""

    url: str
    ak: str
    sk: str = field(repr=False)
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    profile: str | None = None

    @property
    def verify(self) -> bool | str:
        return self.ca_bundle if self.ca_bundle else True

    def client(
        self,
        *,
        retry_deadline: float = DEFAULT_RETRY_DEADLINE,
        transport: httpx.BaseTransport | None = None,
        on_retry: RetryHook | None = None,
    ) -> Client:
        return Client(
            self.url, self.ak, self.sk, timeout=self.timeout, verify=self.verify,
            transport=transport, retry_deadline=retry_deadline, on_retry=on_retry,
        )  # fmt: skip

    def async_client(
        self,
        *,
        retry_deadline: float = DEFAULT_RETRY_DEADLINE,
        transport: httpx.AsyncBaseTransport | None = None,
        on_retry: RetryHook | None = None,
    ) -> AsyncClient:
        return AsyncClient(
            self.url, self.ak, self.sk, timeout=self.timeout, verify=self.verify,
            transport=transport, retry_deadline=retry_deadline, on_retry=on_retry,
        )  # fmt: skip


def config_path(environ: Mapping[str, str]) -> Path:
    """``$CCMS_CLIENT_CONFIG``, else ``$XDG_CONFIG_HOME/ccms/client.toml``, else
    ``$HOME/.config/ccms/client.toml``."""
    if environ.get("CCMS_CLIENT_CONFIG"):
        return Path(environ["CCMS_CLIENT_CONFIG"])
    xdg = environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "ccms" / "client.toml"


def _profile(name: str, table: object, folder: Path, source: Path) -> Profile:
    where = f"{source} [profile.{name}]"
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where} must be a table")
    unknown = sorted(set(table) - PROFILE_KEYS)
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(PROFILE_KEYS))})"
        )
    for key in ("url", "ak", "sk", "sk_command", "ca_bundle"):
        if key in table and (not isinstance(table[key], str) or not table[key]):
            raise ConfigurationError(f"{where}: {key} must be a non-empty string")
    if "sk" in table and "sk_command" in table:
        raise ConfigurationError(f"{where}: give sk or sk_command, not both")
    timeout = table.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ConfigurationError(f"{where}: timeout must be a positive number of seconds")
    ca_bundle = table.get("ca_bundle")
    if ca_bundle is not None:
        ca_bundle = str(folder / Path(ca_bundle).expanduser())
    return Profile(
        name, table.get("url"), table.get("ak"), table.get("sk"), table.get("sk_command"),
        ca_bundle, None if timeout is None else float(timeout),
    )  # fmt: skip


def read_profiles(path: Path) -> dict[str, Profile]:
    """The profiles of a client file; ``{}`` when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    tables = data.get("profile", {})
    if not isinstance(tables, dict):
        raise ConfigurationError(f"{path}: 'profile' must hold [profile.NAME] tables")
    return {name: _profile(name, table, path.parent, path) for name, table in tables.items()}


def run_sk_command(command: str) -> str:
    """Run ``sk_command`` (no shell: use ``sh -c '...'`` for pipes); its stdout is the SK."""
    try:
        done = subprocess.run(
            shlex.split(command),
            capture_output=True,
            text=True,
            timeout=SK_COMMAND_TIMEOUT_S,
            check=False,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(f"sk_command {command!r} could not run: {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ConfigurationError(f"sk_command {command!r} failed: {detail[0]}")
    secret = done.stdout.strip()
    if not secret:
        raise ConfigurationError(f"sk_command {command!r} printed nothing")
    return secret


def _choose(profiles: Mapping[str, Profile], name: str | None, path: Path) -> Profile | None:
    if name is not None:
        if name not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigurationError(f"no profile {name!r} in {path} (profiles: {known})")
        return profiles[name]
    if DEFAULT_PROFILE in profiles:
        return profiles[DEFAULT_PROFILE]
    if len(profiles) == 1:
        return next(iter(profiles.values()))
    return None


def load_config(
    environ: Mapping[str, str],
    *,
    profile: str | None = None,
    url: str | None = None,
    ak: str | None = None,
    sk: str | None = None,
    ca_bundle: str | None = None,
    timeout: float | None = None,
    path: str | Path | None = None,
    run_command: SecretRunner = run_sk_command,
) -> ClientConfig:
    """The client configuration: arguments > ``CCMS_*`` in ``environ`` > the profile."""
    file = Path(path) if path is not None else config_path(environ)
    profiles = read_profiles(file)
    chosen = _choose(profiles, profile, file)
    empty = Profile("")
    base = chosen or empty

    def missing(what: str, flag: str, env: str, key: str) -> ConfigurationError:
        if chosen is None and len(profiles) > 1:
            hint = f"choose one of the profiles in {file} with --profile"
        else:
            hint = f"or add {key} to a profile in {file}"
        return ConfigurationError(f"no {what}: give {flag}, set {env}, {hint}")

    final_url = url or environ.get("CCMS_URL") or base.url
    if not final_url:
        raise missing("server URL", "--url", "CCMS_URL", "url")
    final_ak = ak or environ.get("CCMS_AK") or base.ak
    if not final_ak:
        raise missing("access key", "--ak", "CCMS_AK", "ak")
    final_sk = sk or environ.get("CCMS_SK") or base.sk
    if not final_sk and base.sk_command:
        final_sk = run_command(base.sk_command)
    if not final_sk:
        raise missing("secret key", "--sk", "CCMS_SK", "sk or sk_command")
    if not final_url.startswith(("http://", "https://")):
        raise ConfigurationError(f"server URL must start with https:// or http://: {final_url}")
    final_timeout = timeout or base.timeout or DEFAULT_TIMEOUT
    if final_timeout <= 0:
        raise ConfigurationError("timeout must be a positive number of seconds")
    return ClientConfig(
        url=final_url,
        ak=final_ak,
        sk=final_sk,
        ca_bundle=ca_bundle or environ.get("CCMS_CA_BUNDLE") or base.ca_bundle,
        timeout=final_timeout,
        profile=chosen.name if chosen is not None else None,
    )


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _without_table(text: str, name: str) -> str:
    header = re.compile(rf"""^\s*\[\s*profile\s*\.\s*(["']?){re.escape(name)}\1\s*\]\s*(#.*)?$""")
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if header.match(line):
            skipping = True
            continue
        if skipping and line.lstrip().startswith("["):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def write_profile(
    name: str,
    url: str,
    ak: str,
    sk: str,
    path: str | Path | None = None,
    *,
    ca_bundle: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Write (or replace) ``[profile.NAME]`` and return the file's path.

    The file is written whole and atomically with mode 0600 (it holds a secret); other
    profiles and comments are kept. ``path`` defaults to :func:`config_path` of
    ``environ`` (``ccms demo`` passes its own; ``None`` means ``os.environ``).
    """
    if not _NAME.fullmatch(name):
        raise ConfigurationError(f"profile name must be letters, digits, '-' or '_': {name!r}")
    file = Path(path) if path is not None else config_path(
        os.environ if environ is None else environ
    )  # fmt: skip
    try:
        old = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = ""
    except OSError as exc:
        raise ConfigurationError(f"cannot read {file}: {exc.strerror}") from None
    lines = [f"[profile.{name}]", f"url = {_toml_string(url)}", f"ak = {_toml_string(ak)}",
             f"sk = {_toml_string(sk)}"]  # fmt: skip
    if ca_bundle is not None:
        lines.append(f"ca_bundle = {_toml_string(ca_bundle)}")
    rest = _without_table(old, name).rstrip()
    text = (rest + "\n\n" if rest else "") + "\n".join(lines) + "\n"
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"cannot add profile {name!r} to {file}: {exc}") from None
    try:
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".client.", suffix=".toml", dir=file.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp: mode 0600
                out.write(text)
            os.replace(tmp, file)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise ConfigurationError(f"cannot write {file}: {exc.strerror}") from None
    return file
