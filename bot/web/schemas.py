"""What the ops API answers with. Field names match the CSV import where they overlap."""

from datetime import date, datetime, time
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.channels import registry
from bot.domain.deliveries import Status
from bot.usecases.progress import FailReason, StopEvent


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DeliveryOut(Out):
    id: int
    order_id: str
    name: str
    phone: str
    address: str
    lat: float
    lon: float
    date: date
    window_start: datetime
    window_end: datetime
    service_s: int
    size: int
    skills: list[str]
    notes: str
    locale: str
    timezone: str
    status: Status
    depot_id: int | None


class EventOut(Out):
    at: datetime
    kind: str
    actor: str
    driver_id: int | None
    plan_id: int | None
    data: dict[str, Any]


class StopOut(Out):
    delivery_id: int
    order_id: str
    name: str
    address: str
    sequence: int
    planned_arrival: datetime
    promised_start: datetime
    promised_end: datetime
    window_start: datetime
    window_end: datetime
    status: Status


class DeliveryDetail(DeliveryOut):
    stop: StopOut | None
    events: list[EventOut]


class RouteOut(Out):
    driver_id: int
    driver_code: str
    driver_name: str
    start_at: datetime
    end_at: datetime
    distance_m: int
    duration_s: int
    stops: list[StopOut]


class UnassignedOut(Out):
    delivery_id: int
    order_id: str
    reason: str


class PlanOut(BaseModel):
    id: int
    date: date
    version: int
    matrix: str
    cost: int
    solve_ms: int
    created_at: datetime
    routes: list[RouteOut]
    unassigned: list[UnassignedOut]
    kept: int = 0  # windows already told that this plan kept (POST only)
    told: int = 0  # recipients told of a window this plan had to move (POST only)


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: list[dict[str, Any]]


class DepotOut(Out):
    id: int
    code: str
    name: str
    address: str
    lat: float
    lon: float
    timezone: str


class DriverOut(Out):
    id: int
    code: str
    name: str
    phone: str | None
    depot_id: int
    capacity: int
    skills: list[str]
    shift_start: time
    shift_end: time
    start_lat: float | None
    start_lon: float | None
    end_lat: float | None
    end_lon: float | None
    active: bool
    position_lat: float | None
    position_lon: float | None
    position_at: datetime | None


class LinkCodeOut(Out):
    driver_id: int
    driver_code: str
    code: str = Field(description="send to the bot as `/driver CODE`; works once")
    expires_at: datetime


class StartOut(BaseModel):
    out_for_delivery: int


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class StopEventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: StopEvent
    reason: FailReason | None = None
    note: str = Field(default="", max_length=1000)


class PositionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class SandboxReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delivery_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    order_id: str | None = Field(default=None, min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=4096)
    channel: str = Field(default="sms", description="a registered channel: sms, telegram, …")

    @field_validator("channel")
    @classmethod
    def _registered(cls, channel: str) -> str:
        if channel not in registry.names():
            raise ValueError(f"not a channel here; one of {', '.join(registry.names())}")
        return channel

    @model_validator(mode="after")
    def _one_delivery(self) -> Self:
        if (self.delivery_id is None) == (self.order_id is None):
            raise ValueError("give exactly one of delivery_id and order_id")
        return self


class SandboxReplyOut(BaseModel):
    inbox_id: int | None
    replies: list[str]
