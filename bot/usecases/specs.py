"""Our drivers and deliveries as eta's vans and jobs (shift times in the depot's zone, skills for depots),
at the pace and with the stop times learned so far (eta/learning.py)."""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.deliveries import Delivery, Depot, Driver
from eta.geo import LatLon
from eta.learning import NOTHING_LEARNED, Door, Learned
from eta.model import JobSpec, VehicleSpec

BULKY = 3  # units of van capacity from which a parcel is a stop type of its own


def vehicle_spec(
    driver: Driver, depot: Depot, day: date, learned: Learned = NOTHING_LEARNED, now: datetime | None = None
) -> VehicleSpec:
    """The van; its speed factor is its learned pace over the hours it still drives (from `now`)."""
    zone = ZoneInfo(depot.timezone)
    home = LatLon(depot.lat, depot.lon)
    shift_end_day = day + timedelta(days=1) if driver.shift_end <= driver.shift_start else day
    shift_start, shift_end = _utc(day, driver.shift_start, zone), _utc(shift_end_day, driver.shift_end, zone)
    leave = shift_start if now is None else max(now, shift_start)
    return VehicleSpec(
        id=driver.id,
        start=_point(driver.start_lat, driver.start_lon, home),
        end=_point(driver.end_lat, driver.end_lon, home),
        shift_start=shift_start,
        shift_end=shift_end,
        capacity=driver.capacity,
        skills=frozenset(driver.skills) | {f"depot:{depot.id}"},
        speed_factor=learned.speed_factor(driver.id, leave, shift_end, zone),
    )


def _point(lat: float | None, lon: float | None, fallback: LatLon) -> LatLon:
    return LatLon(lat, lon) if lat is not None and lon is not None else fallback


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def job_spec(delivery: Delivery, learned: Learned = NOTHING_LEARNED) -> JobSpec:
    """The job; its service time is the one learned for its address or type (configured: no data)."""
    depot = {f"depot:{delivery.depot_id}"} if delivery.depot_id is not None else set()
    stop = door(delivery.address, delivery.service_s, delivery.size, delivery.skills)
    return JobSpec(
        id=delivery.id,
        location=LatLon(delivery.lat, delivery.lon),
        window_start=delivery.window_start,
        window_end=delivery.window_end,
        service_s=learned.service.seconds(stop),
        size=delivery.size,
        skills=frozenset(delivery.skills) | depot,
    )


def door(address: str, service_s: int, size: int, skills: Iterable[str]) -> Door:
    """What a stop's time is learned by: the address, and its type (the shipper's minutes, bulk, skills)."""
    kind = "/".join([f"{round(service_s / 60)}min", "bulky" if size >= BULKY else "parcel", *sorted(skills)])
    return Door(" ".join(address.casefold().split()), kind, service_s)
