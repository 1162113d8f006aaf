"""Settings read from the environment (PARKFLOW_*), one frozen value per process."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine import RunLimits

KEY_FILE_NAME = "secret_key"
# how long a worker's claim on a job lasts without a heartbeat (see webapp.worker)
JOB_LEASE = timedelta(seconds=30)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigError(ValueError):
    """A setting in the environment is malformed; the message names the variable."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail notifications go; no host means e-mail is switched off."""

    host: str | None = None
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "parkflow@localhost"
    tls: bool = False

    @property
    def enabled(self) -> bool:
        """Tell whether e-mail can be sent at all."""
        return self.host is not None


@dataclass(frozen=True)
class Settings:
    """Everything Parkflow reads from its environment."""

    instance_path: Path
    database_url: str
    secret_key: str = field(repr=False)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    run_limits: RunLimits = field(default_factory=RunLimits)
    job_lease: timedelta = JOB_LEASE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings, creating the instance folder and its secret key if needed."""
        instance_path = Path(environ.get("PARKFLOW_INSTANCE_PATH") or "instance").resolve()
        database_url = environ.get("PARKFLOW_DATABASE_URL") or _default_database_url(instance_path)
        secret_key = environ.get("PARKFLOW_SECRET_KEY") or load_or_create_secret_key(instance_path)
        return cls(
            instance_path=instance_path,
            database_url=database_url,
            secret_key=secret_key,
            smtp=_smtp_from_env(environ),
            run_limits=run_limits_from_env(environ),
            job_lease=_job_lease(environ.get("PARKFLOW_JOB_LEASE_SECONDS")),
        )


def _default_database_url(instance_path: Path) -> str:
    """Point at a SQLite file in the instance folder, creating the folder so it can open."""
    _make_instance_folder(instance_path)
    return f"sqlite:///{instance_path / 'parkflow.db'}"


def _make_instance_folder(instance_path: Path) -> None:
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the instance folder {instance_path} ({exc.strerror}); "
            "set PARKFLOW_INSTANCE_PATH"
        ) from exc


def load_or_create_secret_key(instance_path: Path) -> str:
    """Return the key kept in the instance folder, generating it on first use."""
    _make_instance_folder(instance_path)
    path = instance_path / KEY_FILE_NAME
    try:
        # O_EXCL: when several processes start at once, exactly one writes the key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret_key(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror}); set PARKFLOW_SECRET_KEY") from exc
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _read_secret_key(path: Path) -> str:
    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror}); set PARKFLOW_SECRET_KEY") from exc
    if not key:
        raise ConfigError(f"{path} is empty; delete it to generate a new key")
    return key


def _smtp_from_env(environ: Mapping[str, str]) -> SmtpSettings:
    return SmtpSettings(
        host=environ.get("PARKFLOW_SMTP_HOST") or None,
        port=_parse_port(environ.get("PARKFLOW_SMTP_PORT")),
        user=environ.get("PARKFLOW_SMTP_USER") or None,
        password=environ.get("PARKFLOW_SMTP_PASSWORD") or None,
        sender=environ.get("PARKFLOW_SMTP_FROM") or SmtpSettings.sender,
        tls=_parse_bool("PARKFLOW_SMTP_TLS", environ.get("PARKFLOW_SMTP_TLS")),
    )


def _parse_port(raw: str | None) -> int:
    if not raw:
        return SmtpSettings.port
    if not raw.strip().isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PARKFLOW_SMTP_PORT must be a port number, not {raw!r}")
    return int(raw)


def _job_lease(raw: str | None) -> timedelta:
    if not raw:
        return JOB_LEASE
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"PARKFLOW_JOB_LEASE_SECONDS must be a whole number of seconds, "
                          f"at least 1, not {raw!r}")
    return timedelta(seconds=int(raw))


def _parse_bool(name: str, raw: str | None) -> bool:
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off, not {raw!r}")


_RUN_LIMITS = (
    ("PARKFLOW_ENGINE_MAX_STEPS", "max_steps", int),
    ("PARKFLOW_ENGINE_MAX_SECONDS", "max_seconds", float),
    ("PARKFLOW_STATE_MAX_STEP_BYTES", "max_step_bytes", int),
    ("PARKFLOW_STATE_MAX_BYTES", "max_state_bytes", int),
)


def run_limits_from_env(environ: Mapping[str, str] = os.environ) -> RunLimits:
    """The engine's bounds per call and per instance; unset variables keep the defaults."""
    values: dict[str, Any] = {}
    for name, field_name, kind in _RUN_LIMITS:
        raw = (environ.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = 0
        if not value > 0:
            raise ConfigError(f"{name} must be a positive number, not {raw!r}")
        values[field_name] = value
    return RunLimits(**values)
