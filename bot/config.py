"""One settings tree, read from the environment and .env (prefix DOORSTEP_, nested by __)."""

import re
from datetime import time
from pathlib import Path
from typing import Literal, Self

import phonenumbers
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.types import IanaZone


class StoreSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///doorstep.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


def _empty_is_unset(value: object) -> object:
    """`KEY=` in .env (as .env.example lists it) means unset, not an empty value."""
    return None if value == "" else value


def _http_base(value: str) -> str:
    """A service's base URL, without its trailing slash."""
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s):// base URL")
    return value.rstrip("/")


class WebSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_key: SecretStr | None = None
    public_url: str | None = None
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses, as uvicorn's
    # --forwarded-allow-ips). Empty: none, so a client cannot choose the address it is counted under.
    forwarded_allow_ips: str = ""
    # How long a recipient's page link (/t/…) keeps working after the parcel's window has passed.
    link_days: int = Field(default=7, ge=1, le=90)
    # The van shows on the recipient's page only once it is this few stops or minutes from their stop
    # (and never before it is out, nor after the stop is done): the driver's day is not theirs to watch.
    van_within_stops: int = Field(default=3, ge=0, le=50)
    van_within_minutes: int = Field(default=15, ge=0, le=240)
    # The page's street map (bot/tiles): tiles built from this OpenStreetMap extract (default: the
    # routing extract, DOORSTEP_ETA__OSM_PBF) into the cache folder; street names need map glyphs (a
    # folder of MapLibre glyph ranges, <font name>/<start>-<end>.pbf); without them, no labels.
    map_pbf: Path | None = None
    map_cache_dir: Path = Path(".cache/tiles")
    map_glyphs: Path | None = None


class DaySettings(BaseModel):
    """Where and when deliveries happen when the input does not say."""

    timezone: IanaZone = "Europe/Berlin"
    phone_region: str = "DE"
    locale: str = "en"

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r} (use an ISO 3166 code such as DE or US)")
        return value.upper()


class EtaSettings(BaseModel):
    matrix: Literal["haversine", "osrm", "osrm_http"] = "haversine"
    detour_factor: float = Field(default=1.3, ge=1.0, le=5.0)
    speed_kmh: float = Field(default=25.0, gt=0, le=150)
    osm_pbf: Path | None = None
    osrm_cache_dir: Path = Path(".cache/osrm")
    osrm_url: str = "http://127.0.0.1:5000"
    osrm_profile: str = "driving"
    window_minutes: int = Field(default=60, ge=15, le=480)
    window_align_minutes: int = Field(default=15, ge=1, le=60)
    exploration: int = Field(default=5, ge=1, le=5)
    threads: int = Field(default=2, ge=1, le=64)
    # New deliveries on a planned day are taken in by one re-plan once they stop coming (debounce).
    replan_quiet_seconds: int = Field(default=20, ge=0, le=3600)
    replan_max_wait_seconds: int = Field(default=120, ge=0, le=3600)
    # ETAs that learn (eta/learning.py): van pace and stop times from the stop events of these many
    # earlier days and today, used by plans, re-plans and windows; the quantile of stop times planned.
    learning: bool = True
    learning_days: int = Field(default=28, ge=1, le=365)
    service_quantile: float = Field(default=0.6, gt=0, lt=1)
    # The nightly plan gives no van more than this multiple of an even share of the day's stops, so
    # every active driver's van carries slack for the day's surprises (0: no limit, the fewest vans).
    spread: float = Field(default=1.1, ge=0, le=10)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.matrix == "osrm" and self.osm_pbf is None:
            raise ValueError("matrix=osrm needs DOORSTEP_ETA__OSM_PBF, the path of an .osm.pbf extract")
        if 0 < self.spread < 1:
            raise ValueError("DOORSTEP_ETA__SPREAD must be 0 (no limit) or at least 1 (an even share)")
        if self.window_minutes % self.window_align_minutes:
            keys = "DOORSTEP_ETA__WINDOW_MINUTES", "DOORSTEP_ETA__WINDOW_ALIGN_MINUTES"
            raise ValueError("{} must be a multiple of {}".format(*keys))
        return self


class OutboxSettings(BaseModel):
    """How the dispatcher sends: leases, retries, quiet hours and rate limits."""

    lease_seconds: int = Field(default=60, ge=5, le=3600)
    batch_size: int = Field(default=200, ge=1, le=5000)
    concurrency: int = Field(default=64, ge=1, le=1000)
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    max_attempts: int = Field(default=8, ge=1, le=50)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_cap_seconds: float = Field(default=900.0, gt=0)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    sms_per_second: float = Field(default=10.0, gt=0)
    telegram_per_second: float = Field(default=25.0, gt=0)
    per_recipient_seconds: float = Field(default=1.0, ge=0)


class TelegramSettings(BaseModel):
    """The Telegram bot. No token: no Telegram, and the sandbox stands in for it."""

    token: SecretStr | None = None
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{5,32}$")  # without "@"
    api_base: str = "https://api.telegram.org"
    webhook_secret: SecretStr | None = None

    _unset = field_validator("token", "username", "webhook_secret", mode="before")(_empty_is_unset)
    _base = field_validator("api_base")(_http_base)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for setWebhook secret_token (core.telegram.org/bots/api#setwebhook).
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value


class TwilioSettings(BaseModel):
    """Twilio for SMS. Without credentials and a sender, the sandbox stands in for it."""

    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr | None = None
    from_number: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{1,14}$")  # E.164
    messaging_service_sid: str | None = Field(default=None, pattern=r"^MG[0-9a-fA-F]{32}$")
    api_base: str = "https://api.twilio.com"
    # Status callbacks go to DOORSTEP_WEB__PUBLIC_URL + this path (none without a public URL).
    status_callback_path: str = Field(default="/webhooks/twilio/status", pattern=r"^/")
    timeout_seconds: float = Field(default=15.0, gt=0, le=120)

    _unset = field_validator(
        "account_sid", "auth_token", "from_number", "messaging_service_sid", mode="before"
    )(_empty_is_unset)
    _base = field_validator("api_base")(_http_base)

    @property
    def configured(self) -> bool:
        """Credentials and a sender (a number or a Messaging Service) are all set."""
        sender = self.from_number or self.messaging_service_sid
        return bool(self.account_sid and self.auth_token and sender)


class SchedulerSettings(BaseModel):
    """The periodic tick that finds due messages in the database (APScheduler only keeps time)."""

    tick_seconds: float = Field(default=10.0, gt=0, le=600)


class HealthSettings(BaseModel):
    """Background loops under supervision, rows parked after repeated failures, and readiness (/readyz)."""

    restart_base_seconds: float = Field(default=0.5, gt=0, le=60)
    restart_cap_seconds: float = Field(default=5.0, gt=0, le=600)
    stale_seconds: float = Field(default=60.0, ge=1, le=3600)
    db_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    poison_after: int = Field(default=3, ge=1, le=100)


class SandboxSettings(BaseModel):
    """The stand-in transport: stores what it "sends" in its own SQLite file, like a provider would."""

    path: Path = Path("sandbox.db")
    latency_ms: int = Field(default=0, ge=0, le=10_000)
    reconcile: bool = True


class MessagesSettings(BaseModel):
    """What recipients are told, and when: the loop's rules."""

    _unset = field_validator("track_url", mode="before")(_empty_is_unset)

    brand: str = Field(default="Doorstep", min_length=1, max_length=20)
    # Your tracking page ({token}: the delivery's tracking token). Unset: the bot's Telegram deep link
    # when DOORSTEP_TELEGRAM__USERNAME is set (the same token links the chat), else no link.
    track_url: str | None = None
    pre_delivery_at: time = time(18, 0)  # local time the day before; or at publish if the plan comes later
    cutoff_minutes: int = Field(default=30, ge=0, le=24 * 60)
    reschedule_days: int = Field(default=3, ge=0, le=14)
    max_slots: int = Field(default=3, ge=1, le=9)
    slot_minutes: int = Field(default=120, ge=30, le=12 * 60)
    moved_threshold_minutes: int = Field(default=15, ge=1, le=240)
    nearby_minutes: int = Field(default=10, ge=1, le=120)
    nearby_stops: int = Field(default=2, ge=1, le=20)
    nearby_stops_max_minutes: int = Field(default=30, ge=1, le=240)  # K stops away, but not hours away
    delay_threshold_minutes: int = Field(default=10, ge=1, le=240)
    out_for_delivery_window_minutes: int = Field(default=30, ge=15, le=240)
    conversation_minutes: int = Field(default=30, ge=1, le=24 * 60)


class ConsoleSettings(BaseModel):
    """The support console: staff sessions, sign-in limits, and how long a reply may wait for an answer."""

    session_hours: int = Field(default=12, ge=1, le=24 * 30)  # absolute: signed out this long after sign-in
    idle_minutes: int = Field(default=60, ge=1, le=24 * 60)
    login_attempts_per_window: int = Field(default=5, ge=1, le=1000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    answer_sla_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOORSTEP_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    store: StoreSettings = StoreSettings()
    web: WebSettings = WebSettings()
    day: DaySettings = DaySettings()
    eta: EtaSettings = EtaSettings()
    messages: MessagesSettings = MessagesSettings()
    outbox: OutboxSettings = OutboxSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    health: HealthSettings = HealthSettings()
    sandbox: SandboxSettings = SandboxSettings()
    telegram: TelegramSettings = TelegramSettings()
    twilio: TwilioSettings = TwilioSettings()
    console: ConsoleSettings = ConsoleSettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ConfigError(Exception):
    """Start-up refused: a setting is wrong. The message names the environment key."""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one line per bad key."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


SECRET_WORDS = ("TOKEN", "SECRET", "KEY", "PASSWORD", "AUTH")


def describe_errors(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        key = "DOORSTEP_" + "__".join(str(part) for part in error["loc"]).upper()
        secret = any(word in key for word in SECRET_WORDS)  # never echo a secret, even a wrong one
        got = "(value hidden)" if secret else f"(got {error.get('input')!r})"
        lines.append(f"  {key}: {error['msg']} {got}")
    return "\n".join(lines)
