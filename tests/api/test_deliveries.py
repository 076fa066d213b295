from typing import Any

import httpx
import pytest

from tests.conftest import DAY


async def seed_fleet(api: httpx.AsyncClient, day: dict[str, Any]) -> None:
    for path in ("/api/depots", "/api/drivers"):
        response = await api.post(path, json=day[path.removeprefix("/api/")])
        assert response.status_code == 200, response.text


async def import_rows(api: httpx.AsyncClient, rows: list[dict[str, Any]], **params: str) -> dict[str, Any]:
    response = await api.post("/api/deliveries", json=rows, params=params)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def stored(api: httpx.AsyncClient, **params: str | int | list[str]) -> list[dict[str, Any]]:
    response = await api.get("/api/deliveries", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def detail(api: httpx.AsyncClient, delivery_id: int) -> dict[str, Any]:
    response = await api.get(f"/api/deliveries/{delivery_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def error_paths(response: httpx.Response) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


async def test_importing_the_day_creates_every_delivery(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await seed_fleet(api, day_file)

    report = await import_rows(api, day_file["deliveries"])

    assert report == {"created": 40, "updated": 0, "unchanged": 0, "rejected": []}
    deliveries = await stored(api)
    assert sorted(d["order_id"] for d in deliveries) == sorted(r["order_id"] for r in day_file["deliveries"])
    assert {d["status"] for d in deliveries} == {"created"}


async def test_importing_the_same_day_again_changes_nothing(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await import_rows(api, day_file["deliveries"])
    before = await stored(api)

    report = await import_rows(api, day_file["deliveries"])

    assert report == {"created": 0, "updated": 0, "unchanged": 40, "rejected": []}
    assert await stored(api) == before
    assert len((await detail(api, before[0]["id"]))["events"]) == 1


async def test_changed_row_updates_the_delivery_in_place(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    rows = day_file["deliveries"]
    await import_rows(api, rows)
    changed = {**rows[4], "name": "Anna Neumann", "window_start": "10:00", "window_end": "11:30"}

    report = await import_rows(api, [*rows[:4], changed, *rows[5:]])

    assert report == {"created": 0, "updated": 1, "unchanged": 39, "rejected": []}
    [delivery] = await stored(api, q=rows[4]["order_id"])
    assert delivery["name"] == "Anna Neumann"
    assert (delivery["window_start"], delivery["window_end"]) == (
        "2026-11-23T09:00:00Z",
        "2026-11-23T10:30:00Z",
    )
    assert len(await stored(api)) == 40
    last_event = (await detail(api, delivery["id"]))["events"][-1]
    assert last_event["kind"] == "delivery.updated"
    assert last_event["data"] == {"changed": ["name", "window_start", "window_end"]}


async def test_batch_with_bad_rows_is_refused_and_nothing_is_stored(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    rows = day_file["deliveries"]
    await import_rows(api, rows[:10])
    before = await stored(api)
    batch = [
        {**rows[0], "name": "Renamed"},
        {**rows[10], "size": "big"},
        rows[11],
        {**rows[12], "phone": "123"},
    ]

    response = await api.post("/api/deliveries", json=batch)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_deliveries"
    assert body["message"] == "2 of 4 deliveries are invalid; none imported"
    assert [(e["path"], e["order_id"]) for e in body["errors"]] == [
        ("body[1].size", rows[10]["order_id"]),
        ("body[3].phone", rows[12]["order_id"]),
    ]
    assert await stored(api) == before


@pytest.mark.parametrize(
    ("changes", "paths"),
    [
        ({"size": "big"}, ["body[0].size"]),
        ({"size": 0}, ["body[0].size"]),
        ({"lat": "north"}, ["body[0].lat"]),
        ({"lat": 200}, ["body[0].lat"]),
        ({"lon": None}, ["body[0].lon"]),
        ({"date": "23.11.2026"}, ["body[0].date"]),
        ({"window_start": "25:00"}, ["body[0].window_start"]),
        ({"window_start": "12:00", "window_end": "11:00"}, ["body[0].window_end"]),
        ({"phone": "123"}, ["body[0].phone"]),
        ({"name": ""}, ["body[0].name"]),
        ({"timezone": "Mars/Base"}, ["body[0].timezone"]),
        ({"depot": "NOPE"}, ["body[0].depot"]),
        ({"size": "big", "phone": None}, ["body[0].phone", "body[0].size"]),
    ],
    ids=[
        "size not a number",
        "size zero",
        "lat not a number",
        "lat out of range",
        "lon missing",
        "german date",
        "hour 25",
        "window ends before start",
        "short phone",
        "empty name",
        "unknown zone",
        "unknown depot",
        "every problem reported",
    ],
)
async def test_invalid_delivery_is_refused_with_its_field_path(
    api: httpx.AsyncClient, day_file: dict[str, Any], changes: dict[str, object], paths: list[str]
) -> None:
    response = await api.post("/api/deliveries", json=[{**day_file["deliveries"][0], **changes}])

    assert response.status_code == 422
    assert error_paths(response) == paths
    assert await stored(api) == []


async def test_repeated_order_id_in_one_batch_is_refused(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    first, second = day_file["deliveries"][:2]

    response = await api.post("/api/deliveries", json=[first, second, {**first, "name": "Someone else"}])

    assert response.status_code == 422
    assert error_paths(response) == ["body[2].order_id"]
    assert await stored(api) == []


async def test_repeated_order_id_message_names_the_first_item(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    first, second = day_file["deliveries"][:2]

    response = await api.post("/api/deliveries", json=[first, second, first])

    assert "body[0]" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "path"),
    [({"order_id": "ORD-1"}, "body"), (["ORD-1"], "body[0]")],
    ids=["object instead of list", "string instead of object"],
)
async def test_body_of_the_wrong_shape_is_refused(api: httpx.AsyncClient, body: object, path: str) -> None:
    response = await api.post("/api/deliveries", json=body)

    assert response.status_code == 422
    assert error_paths(response) == [path]


async def test_skip_invalid_imports_the_good_rows_and_reports_the_rest(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    rows = day_file["deliveries"][:5]
    batch = [rows[0], {**rows[1], "size": "big"}, rows[2], {**rows[3], "phone": "123"}, rows[4]]

    report = await import_rows(api, batch, skip_invalid="true")

    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 0)
    assert [(e["path"], e["order_id"]) for e in report["rejected"]] == [
        ("body[1].size", rows[1]["order_id"]),
        ("body[3].phone", rows[3]["order_id"]),
    ]
    kept = {d["order_id"] for d in await stored(api)}
    assert kept == {rows[0]["order_id"], rows[2]["order_id"], rows[4]["order_id"]}


async def test_list_filters_by_date(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    rows = day_file["deliveries"]
    await import_rows(api, [*rows, {**rows[0], "order_id": "ORD-NEXT-DAY", "date": "2026-11-24"}])

    next_day = await stored(api, date="2026-11-24")

    assert [d["order_id"] for d in next_day] == ["ORD-NEXT-DAY"]
    assert len(await stored(api, date=DAY.isoformat())) == 40
    assert await stored(api, date="2026-11-25") == []


async def test_list_filters_by_one_or_more_statuses(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    await import_rows(api, day_file["deliveries"])
    cancelled_ids = [d["id"] for d in (await stored(api))[:2]]
    for delivery_id in cancelled_ids:
        cancel = await api.post(f"/api/deliveries/{delivery_id}/cancel", json={"reason": "moved away"})
        assert cancel.status_code == 200

    cancelled = await stored(api, status="cancelled")
    either = await stored(api, status=["created", "cancelled"])

    assert [d["id"] for d in cancelled] == cancelled_ids
    assert len(await stored(api, status="created")) == 38
    assert len(either) == 40
    assert await stored(api, status="planned") == []


async def test_search_finds_by_order_id_name_or_phone(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    rows = day_file["deliveries"]
    await import_rows(api, rows)
    target = rows[6]

    by_order = await stored(api, q=target["order_id"].lower())
    by_name = await stored(api, q=target["name"].split()[0].upper())
    by_phone = await stored(api, q=target["phone"])

    assert [d["order_id"] for d in by_order] == [target["order_id"]]
    first_name = target["name"].split()[0]
    assert target["order_id"] in {d["order_id"] for d in by_name}
    assert all(first_name in d["name"] for d in by_name)
    assert [d["order_id"] for d in by_phone] == [target["order_id"]]
    assert await stored(api, q="nobody-has-this") == []


async def test_search_for_a_percent_sign_matches_it_literally(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await import_rows(api, day_file["deliveries"])

    assert await stored(api, q="%") == []


async def test_pages_cover_the_list_once(api: httpx.AsyncClient, day_file: dict[str, Any]) -> None:
    await import_rows(api, day_file["deliveries"])
    everything = [d["id"] for d in await stored(api)]

    pages = [[d["id"] for d in await stored(api, limit=15, offset=o)] for o in (0, 15, 30, 45)]

    assert [len(p) for p in pages] == [15, 15, 10, 0]
    assert [i for page in pages for i in page] == everything


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"limit": 1001}, "query.limit"),
        ({"limit": 0}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"status": "lost"}, "query.status[0]"),
        ({"date": "tomorrow"}, "query.date"),
        ({"q": "x" * 101}, "query.q"),
    ],
    ids=["limit above 1000", "limit zero", "negative offset", "unknown status", "not a date", "long q"],
)
async def test_invalid_list_query_is_refused(
    api: httpx.AsyncClient, params: dict[str, str | int], path: str
) -> None:
    response = await api.get("/api/deliveries", params=params)

    assert response.status_code == 422
    assert error_paths(response) == [path]


async def test_detail_shows_the_log_and_no_stop_before_planning(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await import_rows(api, day_file["deliveries"])
    [listed] = await stored(api, q=day_file["deliveries"][0]["order_id"])

    found = await detail(api, listed["id"])

    assert found == {**listed, "stop": None, "events": found["events"]}
    assert [(e["kind"], e["actor"]) for e in found["events"]] == [("delivery.created", "api")]
    assert found["events"][0]["data"] == {"order_id": listed["order_id"]}


async def test_unknown_delivery_id_is_named_in_the_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/deliveries/4711")

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "no delivery with id 4711",
        "errors": [{"path": "delivery_id", "message": "no delivery with id 4711"}],
    }


async def test_delivery_id_that_is_not_a_number_is_422(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/deliveries/abc")

    assert response.status_code == 422
    assert error_paths(response) == ["path.delivery_id"]


async def test_search_by_phone_accepts_the_number_as_people_write_it(
    api: httpx.AsyncClient, day_file: dict[str, Any]
) -> None:
    await import_rows(api, day_file["deliveries"])
    wanted = day_file["deliveries"][4]
    national = "0" + wanted["phone"].removeprefix("+49")  # +4915112345678 -> 015112345678

    found = await stored(api, q=f"{national[:4]} {national[4:]}")

    assert [d["order_id"] for d in found] == [wanted["order_id"]]
