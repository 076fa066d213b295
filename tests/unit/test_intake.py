from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.domain.deliveries import Depot
from bot.domain.intake import DeliveryInput, FieldError, IntakeContext, validate_batch, validate_delivery

CTX = IntakeContext(phone_region="DE", timezone="Europe/Berlin", locale="en")
GOOD: dict[str, Any] = {
    "order_id": "A-1", "name": "Anna Becker", "phone": "0151 23456789", "address": "Torstraße 1, Berlin",
    "lat": "52.529", "lon": "13.401", "date": "2026-11-23", "window_start": "09:00", "window_end": "11:00",
    "service_minutes": "3", "size": "2",
}  # fmt: skip


def check(**changes: Any) -> DeliveryInput | list[FieldError]:
    return validate_delivery({**GOOD, **changes}, CTX)


def fields(result: DeliveryInput | list[FieldError]) -> set[str]:
    assert isinstance(result, list), result
    return {e.field for e in result}


def test_good_row_is_normalised_to_e164_and_utc() -> None:
    result = check()
    assert isinstance(result, DeliveryInput)
    assert result.phone == "+4915123456789"
    assert result.window_start == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert result.window_end == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert result.service_s == 180
    assert (result.timezone, result.locale) == ("Europe/Berlin", "en")


def test_summer_time_is_taken_from_the_delivery_date() -> None:
    result = check(date="2026-07-01")
    assert isinstance(result, DeliveryInput)
    assert result.window_start == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # 09:00 CEST


def test_every_problem_in_a_row_is_reported_not_just_the_first() -> None:
    result = check(phone="12", lat="95", window_end="08:00", size="0")
    assert fields(result) == {"phone", "lat", "window_end", "size"}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"phone": "not a number"}, "phone", "not a phone number"),
        ({"phone": "+49 30 1"}, "phone", "not a valid number"),
        ({"lat": "91"}, "lat", "out of range"),
        ({"lon": "-181"}, "lon", "out of range"),
        ({"lat": "north"}, "lat", "not a number"),
        ({"lat": "0", "lon": "0"}, "lat", "missing geocode"),
        ({"date": "23.11.2026"}, "date", "YYYY-MM-DD"),
        ({"date": "2026-02-30"}, "date", "real calendar date"),
        ({"window_start": "9am"}, "window_start", "HH:MM"),
        ({"window_end": "24:00"}, "window_end", "HH:MM"),
        ({"window_end": "09:00"}, "window_end", "after window_start"),
        ({"size": "-1"}, "size", "between 1 and"),
        ({"size": "1.5"}, "size", "whole number"),
        ({"service_minutes": "-2"}, "service_minutes", "out of range"),
        ({"order_id": "  "}, "order_id", "required"),
        ({"name": None}, "name", "required"),
        ({"email": "anna-at-example"}, "email", "e-mail"),
        ({"locale": "deutsch!"}, "locale", "language tag"),
        ({"depot": "NOPE"}, "depot", "unknown depot"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
    ],
)
def test_bad_values_are_named_with_a_reason(change: dict[str, Any], field: str, reason: str) -> None:
    result = check(**change)
    assert isinstance(result, list)
    assert any(e.field == field and reason in e.reason for e in result), result


def test_a_local_time_skipped_by_the_clock_change_is_refused() -> None:
    result = check(date="2026-03-29", window_start="02:30", window_end="04:00")
    assert fields(result) == {"window_start"}


def test_german_decimal_commas_are_read() -> None:
    result = check(lat="52,529", lon="13,401")
    assert isinstance(result, DeliveryInput)
    assert (result.lat, result.lon) == (52.529, 13.401)


def test_depot_gives_its_time_zone() -> None:
    lisbon = Depot(1, "LIS", "Lisbon", "", 38.72, -9.14, "Europe/Lisbon")
    ctx = IntakeContext("PT", "Europe/Berlin", "pt", {"LIS": lisbon})
    result = validate_delivery(
        {**GOOD, "depot": "LIS", "phone": "912 345 678", "lat": 38.7, "lon": -9.1}, ctx
    )
    assert isinstance(result, DeliveryInput)
    assert result.timezone == "Europe/Lisbon"
    assert result.phone == "+351912345678"
    assert result.window_start == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_json_numbers_and_skill_lists_are_accepted() -> None:
    result = check(lat=52.5, lon=13.4, size=3, service_minutes=2.5, skills=["fridge", "2-person"])
    assert isinstance(result, DeliveryInput)
    assert (result.size, result.service_s, result.skills) == (3, 150, ("2-person", "fridge"))


def test_repeated_order_id_in_one_batch_is_an_error_on_the_later_row() -> None:
    batch = validate_batch([(2, GOOD), (3, {**GOOD, "name": "Other"}), (4, {**GOOD, "order_id": "A-2"})], CTX)
    assert [n for n, _ in batch.good] == [2, 4]
    assert [(r.row, r.errors[0].field) for r in batch.bad] == [(3, "order_id")]
    assert "row 2" in batch.bad[0].errors[0].reason


def test_dates_are_kept_as_given() -> None:
    result = check(date="2026-12-31")
    assert isinstance(result, DeliveryInput)
    assert result.date == date(2026, 12, 31)
