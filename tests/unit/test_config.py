import re
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    listed = set(re.findall(r"^(DOORSTEP_\w+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    expected = {"DOORSTEP_LOG_LEVEL"} | {
        f"DOORSTEP_{section.upper()}__{key.upper()}"
        for section, model in Settings.model_fields.items()
        if model.annotation is not None and hasattr(model.annotation, "model_fields")
        for key in model.annotation.model_fields
    }
    assert listed == expected


def test_env_example_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("DOORSTEP_") and not line.endswith("="):
            key, value = line.split("=", 1)
            monkeypatch.setenv(key, value)
    assert load_settings(_env_file=None).eta.matrix == "haversine"


def test_nested_keys_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_WEB__PORT", "9123")
    monkeypatch.setenv("DOORSTEP_WEB__API_KEY", "s3cret")
    monkeypatch.setenv("DOORSTEP_ETA__WINDOW_MINUTES", "90")
    settings = load_settings(_env_file=None)
    assert settings.web.port == 9123
    assert settings.eta.window_minutes == 90
    assert "s3cret" not in repr(settings)
    assert settings.web.api_key is not None
    assert settings.web.api_key.get_secret_value() == "s3cret"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("DOORSTEP_DAY__PHONE_REGION=at\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().day.phone_region == "AT"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DOORSTEP_WEB__PORT", "http"),
        ("DOORSTEP_WEB__PORT", "70000"),
        ("DOORSTEP_DAY__TIMEZONE", "Berlin"),
        ("DOORSTEP_STORE__URL", "mysql://x"),
        ("DOORSTEP_ETA__MATRIX", "google"),
        ("DOORSTEP_ETA__WINDOW_ALIGN_MINUTES", "25"),
        ("DOORSTEP_ETA__SPREAD", "0.5"),
    ],
)
def test_a_wrong_value_is_refused_naming_its_key(
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    value: str,
) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None)
    assert key in str(refused.value)


def test_a_wrong_secret_is_named_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_TELEGRAM__WEBHOOK_SECRET", "has spaces and $ecrets")
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None)
    assert "DOORSTEP_TELEGRAM__WEBHOOK_SECRET" in str(refused.value)
    assert "$ecrets" not in str(refused.value)


def test_twilio_needs_credentials_and_a_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_TWILIO__ACCOUNT_SID", "AC" + "a" * 32)
    monkeypatch.setenv("DOORSTEP_TWILIO__AUTH_TOKEN", "tok")
    monkeypatch.setenv("DOORSTEP_TWILIO__FROM_NUMBER", "")
    assert not load_settings(_env_file=None).twilio.configured
    monkeypatch.setenv("DOORSTEP_TWILIO__MESSAGING_SERVICE_SID", "MG" + "b" * 32)
    assert load_settings(_env_file=None).twilio.configured
    monkeypatch.setenv("DOORSTEP_TWILIO__FROM_NUMBER", "015112345678")
    with pytest.raises(ConfigError, match="DOORSTEP_TWILIO__FROM_NUMBER"):
        load_settings(_env_file=None)
