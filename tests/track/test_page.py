"""The recipient's page (/t/{token}) through the real app: the link every message carries, what the page
shows, what it lets the recipient do (the chat's verbs), and that a link that does not work shows
nothing of any parcel."""

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from bot.app import App
from bot.clock import ManualClock
from bot.config import Settings
from bot.services import Services
from bot.store import audit, links
from bot.store import deliveries as delivery_store
from bot.store import promises as promise_store
from bot.store.tables import deliveries, events
from bot.store.tables import links as links_table
from bot.usecases import progress
from scheduler.jobs import fill_outbox
from tests.conftest import API_KEY
from tests.console.conftest import add_staff, csrf_of, sign_in
from tests.loop.conftest import MORNING, outbox_rows, planned_day  # noqa: F401 - the fixture, for this module
from tests.loop.test_driver_events import first_route
from tests.loop.test_fallback import EVENING
from tests.sms.test_fault_gaps import open_escalations
from tests.sms.test_silent_misreads import deliver_first_stop
from tests.track.images import png

PUBLIC = "https://doorstep.example"
IMAGE = {"Content-Type": "image/png"}
LINK = re.compile(re.escape(PUBLIC) + r"/t/([A-Za-z0-9_-]{22})")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(
        store={"url": f"sqlite+aiosqlite:///{db_path}"},
        web={"api_key": API_KEY, "public_url": PUBLIC},
        eta={"exploration": 1},
        sandbox={"path": db_path.with_name("sandbox.db")},
        _env_file=None,
    )


async def notices(services: Services, clock: ManualClock) -> dict[int, str]:
    """The evening's pre-delivery notices go out; the token in each delivery's link."""
    clock.set(EVENING)
    await fill_outbox(services)
    await services.dispatcher().drain()
    found: dict[int, str] = {}
    for row in await outbox_rows(services, kind="pre-delivery"):
        match = LINK.search(row["body"])
        assert match, row["body"]
        found[row["delivery_id"]] = match[1]
    return found


async def delivery(services: Services, delivery_id: int) -> sa.RowMapping:
    async with services.store.read() as conn:
        query = sa.select(deliveries).where(deliveries.c.id == delivery_id)
        return (await conn.execute(query)).mappings().one()


async def test_every_notice_links_to_its_own_page_and_only_a_hash_is_kept(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    tokens = await notices(planned_day, clock)
    assert len(set(tokens.values())) == len(tokens) >= 30
    async with planned_day.store.read() as conn:
        kept = set((await conn.scalars(sa.select(links_table.c.token_hash))).all())
    assert {hashlib.sha256(t.encode()).hexdigest() for t in tokens.values()} <= kept
    assert not set(tokens.values()) & kept  # the token itself is stored nowhere

    shown = await api.get(f"/t/{tokens[1]}")
    assert shown.status_code == 200
    row = await delivery(planned_day, 1)
    assert row["order_id"] in shown.text
    assert row["name"].split()[0] in shown.text
    assert "data-window" in shown.text
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert "script-src 'self';" in shown.headers["content-security-policy"]
    assert re.findall(r"<script[^>]*>", shown.text) == ['<script src="/track-assets/live.js" defer>']


@pytest.mark.parametrize("how", ["forged", "malformed", "revoked", "expired"])
async def test_a_link_that_does_not_work_shows_nothing_of_any_parcel(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
    how: str,
) -> None:
    tokens = await notices(planned_day, clock)
    token = tokens[1]
    row = await delivery(planned_day, 1)
    if how == "forged":
        token = "A" * links.TOKEN_CHARS
    elif how == "malformed":
        token = "../../etc/passwd"
    elif how == "revoked":
        async with planned_day.store.tx() as conn:
            assert await links.revoke(conn, [1], clock.now()) == 1
    else:
        async with planned_day.store.tx() as conn:
            await delivery_store.update(conn, 1, {"status": "delivered"}, clock.now())
        clock.set(row["window_end"] + timedelta(days=planned_day.settings.web.link_days, minutes=1))
    shown = await api.get(f"/t/{token}")
    assert shown.status_code == 404
    assert row["order_id"] not in shown.text
    assert row["name"].split()[0] not in shown.text
    acted = await api.post(f"/t/{token}/confirm", data={"csrf": "0" * 64})
    assert acted.status_code in (303, 404)
    assert (await delivery(planned_day, 1))["confirmed_at"] is None


async def test_confirm_from_the_page_needs_the_page_s_own_form(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    token = (await notices(planned_day, clock))[1]
    forged = await api.post(f"/t/{token}/confirm", data={"csrf": "0" * 64})
    assert forged.status_code == 303
    assert (await delivery(planned_day, 1))["confirmed_at"] is None

    csrf = CSRF.search((await api.get(f"/t/{token}")).text)
    assert csrf is not None
    done = await api.post(f"/t/{token}/confirm", data={"csrf": csrf[1]})
    assert (done.status_code, done.headers["location"]) == (303, f"/t/{token}?said=confirmed")
    assert (await delivery(planned_day, 1))["confirmed_at"] is not None
    async with planned_day.store.read() as conn:
        query = sa.select(events.c.actor).where(
            events.c.delivery_id == 1, events.c.kind == "delivery.confirmed"
        )
        assert (await conn.scalars(query)).all() == ["recipient"]
    assert "the driver knows you expect them" in (await api.get(done.headers["location"])).text


async def test_another_time_from_the_page_moves_the_parcel_and_tells_the_recipient(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    token = (await notices(planned_day, clock))[1]
    before = await delivery(planned_day, 1)
    async with planned_day.store.read() as conn:
        planned = (await promise_store.current(conn, [1]))[1]
    offered = await api.get(f"/t/{token}/times")
    assert offered.status_code == 200
    first = re.search(
        r'name="start" value="([^"]+)">\s*<input type="hidden" name="end" value="([^"]+)"', offered.text
    )
    csrf = CSRF.search(offered.text)
    assert first is not None
    assert csrf is not None

    moved = await api.post(f"/t/{token}/times", data={"start": first[1], "end": first[2], "csrf": csrf[1]})
    assert (moved.status_code, moved.headers["location"]) == (303, f"/t/{token}?said=moved")
    after = await delivery(planned_day, 1)
    assert (after["window_start"], after["window_end"]) != (before["window_start"], before["window_end"])
    told = await outbox_rows(planned_day, kind="rescheduled", delivery_id=1)
    assert len(told) == 1  # the recipient hears the new window on their channel
    await planned_day.dispatcher().drain()
    page = (await api.get(f"/t/{token}")).text
    earlier = re.search(r"data-earlier>[^<]*<s>([^<]*)</s></p>", page)  # how the window changed
    assert earlier is not None, page
    assert earlier[1].endswith("(wie geplant)" if "Hallo" in page else "(as planned)")
    assert planned.start.astimezone(ZoneInfo(before["timezone"])).strftime("%H:%M") in earlier[1]

    again = await api.post(
        f"/t/{token}/times",
        data={"start": "2020-01-01T10:00:00+00:00", "end": "2020-01-01T11:00:00+00:00", "csrf": csrf[1]},
    )
    assert again.headers["location"] == f"/t/{token}?said=refused-taken"  # a made-up time moves nothing
    assert (await delivery(planned_day, 1))["window_start"] == after["window_start"]


async def test_instructions_from_the_page_reach_the_driver(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    token = (await notices(planned_day, clock))[1]
    csrf = CSRF.search((await api.get(f"/t/{token}")).text)
    assert csrf is not None
    words = "Behind the blue gate, <b>not</b> the bins"
    saved = await api.post(f"/t/{token}/instructions", data={"place": words, "csrf": csrf[1]})
    assert saved.headers["location"] == f"/t/{token}?said=instructed"
    assert (await delivery(planned_day, 1))["safe_drop"] == words
    assert await outbox_rows(planned_day, kind="driver-notes")
    page = (await api.get(f"/t/{token}")).text
    assert "Behind the blue gate, &lt;b&gt;not&lt;/b&gt; the bins" in page  # their words, escaped


async def test_the_page_speaks_the_recipient_s_language(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    async with planned_day.store.tx() as conn:
        await delivery_store.update(conn, 1, {"locale": "de-AT"}, clock.now())
    token = (await notices(planned_day, clock))[1]
    shown = (await api.get(f"/t/{token}")).text
    assert '<html lang="de-AT">' in shown
    assert "Passt Ihnen das?" in shown
    assert "Andere Zeit wählen" in shown
    assert "Does that suit you?" not in shown


async def form_token(api: httpx.AsyncClient, token: str) -> str:
    found = CSRF.search((await api.get(f"/t/{token}")).text)
    assert found is not None
    return found[1]


async def test_an_access_code_from_the_page_reaches_the_driver_and_is_never_shown_back(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    token = (await notices(planned_day, clock))[1]
    csrf = await form_token(api, token)
    bad = await api.post(f"/t/{token}/code", data={"access_code": "no way!", "csrf": csrf})
    assert bad.headers["location"] == f"/t/{token}?said=refused-bad_code"
    assert (await delivery(planned_day, 1))["access_code"] is None

    saved = await api.post(f"/t/{token}/code", data={"access_code": "4711#", "csrf": csrf})
    assert saved.headers["location"] == f"/t/{token}?said=coded"
    assert (await delivery(planned_day, 1))["access_code"] == "4711#"
    (note,) = await outbox_rows(planned_day, kind="driver-notes")
    assert "4711#" in note["body"]  # the driver's stop card
    assert "4711" not in (await api.get(saved.headers["location"])).text
    async with planned_day.store.read() as conn:
        logged = (await conn.execute(sa.select(events.c.data).where(events.c.delivery_id == 1))).all()
    assert "4711" not in repr(logged)


async def test_after_delivery_the_page_takes_a_rating_and_a_missing_parcel_report(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    tokens = await notices(planned_day, clock)
    clock.set(MORNING)  # the delivery day
    delivered = await deliver_first_stop(planned_day, clock)
    token = tokens[delivered]
    page = (await api.get(f"/t/{token}")).text
    assert 'action="/t/' + token + '/rating"' in page
    assert "/times" not in page  # nothing to change any more

    csrf = await form_token(api, token)
    rated = await api.post(
        f"/t/{token}/rating", data={"stars": "2", "comment": "left in the rain", "csrf": csrf}
    )
    assert rated.headers["location"] == f"/t/{token}?said=rated"
    row = await delivery(planned_day, delivered)
    assert (row["rating"], row["rating_comment"]) == (2, "left in the rain")
    assert "data-rating" in (await api.get(f"/t/{token}")).text
    assert (await api.post(f"/t/{token}/rating", data={"stars": "9", "csrf": csrf})).status_code == 422

    reported = await api.post(f"/t/{token}/missing", data={"csrf": csrf})
    assert reported.headers["location"] == f"/t/{token}?said=reported"
    raised = [(kind, d) for kind, d, _ in await open_escalations(planned_day)]
    assert ("low_rating", delivered) in raised
    assert ("not_received", delivered) in raised


async def test_after_delivery_the_page_shows_the_driver_s_photo_and_note(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    tokens = await notices(planned_day, clock)
    clock.set(MORNING)
    route = await first_route(planned_day)
    first, second = route.stops[0].delivery_id, route.stops[1].delivery_id
    await progress.start_route(planned_day, route.driver_id, actor="test")
    image = png()
    early = await api.post(f"/api/deliveries/{second}/photo", content=image, headers=IMAGE)
    assert early.status_code == 409  # not at that door yet
    clock.set(route.stops[0].planned_arrival)
    await progress.record_stop_event(
        planned_day, first, progress.StopEvent.DELIVERED, note="On the bench by the blue door", actor="test"
    )
    text = await api.post(f"/api/deliveries/{first}/photo", content=b"not an image", headers=IMAGE)
    assert text.status_code == 422
    assert "not a JPEG, PNG or WebP image" in text.text
    assert "data-photo" not in (await api.get(f"/t/{tokens[first]}")).text

    taken = await api.post(f"/api/deliveries/{first}/photo", content=image, headers=IMAGE)
    assert taken.status_code == 201
    page = (await api.get(f"/t/{tokens[first]}")).text
    src = re.search(r'<img class="proof" src="([^"]+)"', page)
    assert src is not None
    assert "On the bench by the blue door" in page
    shown = await api.get(src[1])
    assert shown.status_code == 200
    assert (shown.headers["content-type"], shown.content) == ("image/png", image)
    # Another parcel's link, a forged one, a parcel not delivered: no photo.
    assert (await api.get(f"/t/{tokens[second]}/photo")).status_code == 404
    assert (await api.get("/t/" + "A" * 22 + "/photo")).status_code == 404


async def test_support_sees_the_page_read_only_and_can_revoke_every_link(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    app: App,
    api: httpx.AsyncClient,
) -> None:
    tokens = await notices(planned_day, clock)
    await add_staff(app, "alice", "agent")
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url="https://doorstep.example") as console:
        await sign_in(console, "alice")
        shown = await console.get("/console/deliveries/1/recipient-page")
        assert shown.status_code == 200
        assert "data-window" in shown.text
        assert "<form" not in shown.text  # looking, not acting for them
        actions = await console.get("/console/deliveries/1")
        assert 'href="/console/deliveries/1/recipient-page"' in actions.text

        revoked = await console.post(
            "/console/deliveries/1/revoke-links", data={"csrf_token": csrf_of(actions)}
        )
        assert revoked.status_code == 303
    assert (await api.get(f"/t/{tokens[1]}")).status_code == 404
    assert (await api.get(f"/t/{tokens[2]}")).status_code == 200  # others' links still work
    async with planned_day.store.read() as conn:
        entries = await audit.entries(conn)
    assert [(e.action, e.delivery_id, e.detail) for e in entries if e.action == "links.revoked"] == [
        ("links.revoked", 1, {"revoked": 1})
    ]


async def test_a_link_hammered_is_slowed_down_and_works_again_a_minute_later(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    tokens = await notices(planned_day, clock)
    answers = [(await api.get(f"/t/{tokens[1]}")).status_code for _ in range(31)]
    assert answers == [200] * 30 + [429]
    slowed = await api.get(f"/t/{tokens[1]}")
    assert slowed.headers["retry-after"] == "60"
    assert (await api.get(f"/t/{tokens[2]}")).status_code == 200  # another link from the same address
    forged = [(await api.get(f"/t/{'B' * 21}{n % 10}")).status_code for n in range(120)]
    assert forged[-1] == 429  # guessing links from one address is slowed down as well
    clock.advance(timedelta(minutes=1, seconds=1))
    assert (await api.get(f"/t/{tokens[1]}")).status_code == 200


async def test_what_they_write_on_the_page_reaches_support_and_the_answer_comes_back_to_the_page(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    app: App,
    api: httpx.AsyncClient,
) -> None:
    token = (await notices(planned_day, clock))[1]
    csrf = await form_token(api, token)
    empty = await api.post(f"/t/{token}/write", data={"text": "   ", "csrf": csrf})
    assert empty.headers["location"] == f"/t/{token}?said=refused-empty_text"
    sent = await api.post(
        f"/t/{token}/write", data={"text": "Can you take my old parcel back?", "csrf": csrf}
    )
    assert sent.headers["location"] == f"/t/{token}?said=written"
    assert await open_escalations(planned_day) == [
        ("person", 1, "on their page: Can you take my old parcel back?")
    ]
    assert "a person on our team will answer you" in (await api.get(sent.headers["location"])).text

    await add_staff(app, "alice", "agent")
    transport = httpx.ASGITransport(app=app.web)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as console:
        await sign_in(console, "alice")
        timeline = await console.get("/console/deliveries/1")
        assert "Can you take my old parcel back?" in timeline.text  # on the delivery's timeline
        nonce = re.search(r'name="nonce" value="([^"]+)"', timeline.text)
        assert nonce is not None
        answer = {"text": "Yes: give it to the driver.", "nonce": nonce[1], "csrf_token": csrf_of(timeline)}
        assert (await console.post("/console/deliveries/1/reply", data=answer)).status_code == 303
    page = (await api.get(f"/t/{token}")).text
    thread = re.findall(
        r'<li class="(mine|ours)"><strong>[^<]*</strong> <time[^>]*>[^<]*</time><br>([^<]*)</li>', page
    )
    assert thread == [("mine", "Can you take my old parcel back?"), ("ours", "Yes: give it to the driver.")]


async def test_once_the_van_is_out_the_page_gives_the_narrowed_window_and_the_stops_before(
    planned_day: Services,  # noqa: F811
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    tokens = await notices(planned_day, clock)
    clock.set(MORNING)
    route = await first_route(planned_day)
    third = route.stops[2].delivery_id
    before = (await api.get(f"/t/{tokens[third]}")).text
    assert "data-live hidden></p>" in before  # nothing live before the van leaves
    assert (await api.get(f"/t/{tokens[third]}/feed")).json()["live"] is None
    await progress.start_route(planned_day, route.driver_id, actor="test")
    shown = (await api.get(f"/t/{tokens[third]}")).text
    live = re.search(r"data-live>[^<]*?(\d\d:\d\d)–(\d\d:\d\d)<", shown)
    assert live is not None, shown
    opens, closes = (int(t[:2]) * 60 + int(t[3:]) for t in live.groups())
    assert closes - opens == planned_day.settings.messages.out_for_delivery_window_minutes
    stops = re.search(r"data-stops>([^<]*)<", shown)
    assert stops is not None
    assert "2" in stops[1]
