"""Our drivers and deliveries as eta's vans and jobs (shift times in the depot's zone, skills for depots)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.deliveries import Delivery, Depot, Driver
from eta.geo import LatLon
from eta.model import JobSpec, VehicleSpec


def vehicle_spec(driver: Driver, depot: Depot, day: date) -> VehicleSpec:
    zone = ZoneInfo(depot.timezone)
    home = LatLon(depot.lat, depot.lon)
    shift_end_day = day + timedelta(days=1) if driver.shift_end <= driver.shift_start else day
    return VehicleSpec(
        id=driver.id,
        start=_point(driver.start_lat, driver.start_lon, home),
        end=_point(driver.end_lat, driver.end_lon, home),
        shift_start=_utc(day, driver.shift_start, zone),
        shift_end=_utc(shift_end_day, driver.shift_end, zone),
        capacity=driver.capacity,
        skills=frozenset(driver.skills) | {f"depot:{depot.id}"},
    )


def _point(lat: float | None, lon: float | None, fallback: LatLon) -> LatLon:
    return LatLon(lat, lon) if lat is not None and lon is not None else fallback


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def job_spec(delivery: Delivery) -> JobSpec:
    depot = {f"depot:{delivery.depot_id}"} if delivery.depot_id is not None else set()
    return JobSpec(
        id=delivery.id,
        location=LatLon(delivery.lat, delivery.lon),
        window_start=delivery.window_start,
        window_end=delivery.window_end,
        service_s=delivery.service_s,
        size=delivery.size,
        skills=frozenset(delivery.skills) | depot,
    )
