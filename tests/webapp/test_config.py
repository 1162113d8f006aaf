"""Settings from the environment."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from webapp.config import ConfigError, Settings


def test_defaults_put_everything_in_the_instance_folder(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    settings = Settings.from_env({"PARKFLOW_INSTANCE_PATH": str(folder)})

    assert settings.instance_path == folder
    assert settings.database_url == f"sqlite:///{folder / 'parkflow.db'}"
    assert len(settings.secret_key) == 64
    key_file = folder / "secret_key"
    assert key_file.read_text() == settings.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not settings.smtp.enabled


def test_the_generated_secret_key_is_stable(tmp_path: Path) -> None:
    env = {"PARKFLOW_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(env).secret_key == Settings.from_env(env).secret_key


def test_explicit_settings_win_and_write_no_key_file(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PARKFLOW_INSTANCE_PATH": str(tmp_path),
            "PARKFLOW_DATABASE_URL": "postgresql://parkflow@db/parkflow",
            "PARKFLOW_SECRET_KEY": "k" * 40,
            "PARKFLOW_SMTP_HOST": "mail.example.cn",
            "PARKFLOW_SMTP_PORT": "587",
            "PARKFLOW_SMTP_USER": "robot",
            "PARKFLOW_SMTP_PASSWORD": "pw",
            "PARKFLOW_SMTP_FROM": "noreply@example.cn",
            "PARKFLOW_SMTP_TLS": "yes",
        }
    )
    assert settings.database_url == "postgresql://parkflow@db/parkflow"
    assert settings.secret_key == "k" * 40
    assert not (tmp_path / "secret_key").exists()
    smtp = settings.smtp
    assert (smtp.host, smtp.port) == ("mail.example.cn", 587)
    assert (smtp.user, smtp.password) == ("robot", "pw")
    assert (smtp.sender, smtp.tls, smtp.enabled) == ("noreply@example.cn", True, True)
    assert "pw" not in repr(settings) and "k" * 40 not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PARKFLOW_SMTP_PORT", "smtp", "PARKFLOW_SMTP_PORT must be a port number"),
        ("PARKFLOW_SMTP_PORT", "70000", "PARKFLOW_SMTP_PORT must be a port number"),
        ("PARKFLOW_SMTP_TLS", "maybe", "PARKFLOW_SMTP_TLS must be one of"),
    ],
)
def test_malformed_settings_name_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"PARKFLOW_INSTANCE_PATH": str(tmp_path), name: value})


def test_an_empty_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        Settings.from_env({"PARKFLOW_INSTANCE_PATH": str(tmp_path)})


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = Settings.from_env({"PARKFLOW_INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.database_url = "sqlite://"  # type: ignore[misc]


def test_engine_bounds_come_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"PARKFLOW_INSTANCE_PATH": str(tmp_path),
                                  "PARKFLOW_ENGINE_MAX_STEPS": "500",
                                  "PARKFLOW_ENGINE_MAX_SECONDS": "2.5",
                                  "PARKFLOW_STATE_MAX_BYTES": "1000000"})

    assert settings.run_limits.max_steps == 500
    assert settings.run_limits.max_seconds == 2.5
    assert settings.run_limits.max_state_bytes == 1_000_000
    assert settings.run_limits.max_step_bytes == 2 * 2**20


@pytest.mark.parametrize("raw", ["many", "0", "-3"])
def test_a_malformed_engine_bound_names_the_variable(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="PARKFLOW_ENGINE_MAX_STEPS"):
        Settings.from_env({"PARKFLOW_INSTANCE_PATH": str(tmp_path),
                           "PARKFLOW_ENGINE_MAX_STEPS": raw})
