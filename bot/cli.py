"""The `doorstep` command: serve, import, plan, routes, user."""

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import httpx
import typer
import uvicorn
import uvloop
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot import health, supervise
from bot.clock import SystemClock
from bot.composition import build_services
from bot.config import ConfigError, Settings, load_settings
from bot.domain.routes import PlanHeader, RouteView, UnassignedView
from bot.importfile import ImportFileError, describe, read_day_file, rejects_path, row_labeller, write_rejects
from bot.logs import setup_logging
from bot.services import Services
from bot.store import inbox, outbox, plans
from bot.store.db import StoreError, open_store
from bot.store.staff import StaffUser
from bot.usecases import driver_link, inbound, planning, staff
from bot.usecases.errors import UseCaseError
from bot.usecases.intake import ImportReport, import_deliveries

cli = typer.Typer(help="Doorstep: delivery messages that recipients can answer.", no_args_is_help=True)
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
users = typer.Typer(help="Staff accounts for the support console (/console).", no_args_is_help=True)
cli.add_typer(users, name="user")
OSM_CREDIT = "Road data © OpenStreetMap contributors (ODbL)"
NEW_PASSWORD_ENV = "DOORSTEP_NEW_PASSWORD"


def main() -> None:
    cli()


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    setup_logging(settings.log_level)
    return settings


def _run[T](work: Callable[[Services], Awaitable[T]], *, create: bool = False) -> T:
    """Open the services, run one piece of work, close them; use-case errors end the command cleanly.
    `create`: a missing database is made (commands that set one up), else refused."""

    async def runner() -> T:
        services = await build_services(_settings(), create=create)
        try:
            return await work(services)
        finally:
            await services.close()

    try:
        with _usable_store():
            return asyncio.run(runner())
    except UseCaseError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(1) from None


@contextlib.contextmanager
def _usable_store() -> Iterator[None]:
    """A database Doorstep must not use ends the command with one line, not a traceback."""
    try:
        yield
    except StoreError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: DOORSTEP_WEB__HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: DOORSTEP_WEB__PORT")] = None,
) -> None:
    """Run the web app (ops API, OpenAPI at /docs)."""
    from bot.app import build_app  # noqa: PLC0415 - the web stack loads only for the command that serves it

    settings = _settings()

    async def run() -> None:
        app = await build_app(settings)
        bind_host, bind_port = host or settings.web.host, port or settings.web.port
        if app.generated_key:
            err.print(f"No DOORSTEP_WEB__API_KEY set; API key for this run: [bold]{app.api_key}[/bold]")
        err.print(
            f"Doorstep on http://{bind_host}:{bind_port}  (API docs: http://{bind_host}:{bind_port}/docs)"
        )
        server = _Server(
            uvicorn.Config(
                app.web,
                host=bind_host,
                port=bind_port,
                log_level="warning",
                proxy_headers=bool(settings.web.forwarded_allow_ips),
                forwarded_allow_ips=settings.web.forwarded_allow_ips,
                # Open live pages (/t/{token}/live) would hold a stop for minutes: cut after this long;
                # their browsers reconnect.
                timeout_graceful_shutdown=GRACE_SECONDS,
            )
        )
        await app.start_background()
        try:
            await server.serve()
        finally:
            await app.stop()

    with _usable_store():  # uvloop: the server's event loop, measured faster
        asyncio.run(run(), loop_factory=uvloop.new_event_loop)


GRACE_SECONDS = 5


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM once it has stopped serving, which would end the process before
    `serve` stops the dispatcher and scheduler: here the signal only ends the serving."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        for caught in (signal.SIGINT, signal.SIGTERM):
            signal.signal(caught, self.handle_exit)
        yield


@cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV (header: order_id,name,phone,...) or JSON")],
    skip_invalid: Annotated[
        bool, typer.Option(help="import the good rows; write the bad ones to a file")
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="where rejected rows go (default FILE.rejects.csv)")
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(help="CSV field separator, e.g. 'tab' (default: , ; tab or | from the header)"),
    ] = None,
) -> None:
    """Import deliveries (JSON may add depots and drivers); a bad row stops the file unless --skip-invalid."""
    try:
        day_file = read_day_file(file, delimiter)
    except ImportFileError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None

    async def work(services: Services) -> ImportReport:
        return await import_deliveries(
            services.store,
            services.clock,
            services.settings.day,
            day_file.rows,
            fleet_in=day_file.fleet,
            skip_invalid=skip_invalid,
            actor="cli",
            label=row_labeller(file),
        )

    report = _run(work, create=True)
    for rejected in report.rejected:
        err.print(f"{file}: {describe(file, rejected)}", highlight=False, markup=False)
    counts = f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    if not report.written:
        bad = len(report.rejected)
        err.print(f"[red]{bad} invalid row(s); nothing imported[/red] (--skip-invalid imports the rest)")
        raise typer.Exit(1)
    if report.rejected:
        target = rejects or rejects_path(file)
        write_rejects(file, target, report.rejected)
        out.print(f"{counts}; {len(report.rejected)} rejected, written to {target}", highlight=False)
    else:
        out.print(counts, highlight=False)


@cli.command()
def demo(
    deliveries: Annotated[int, typer.Option(min=1, max=2000, help="deliveries in the day")] = 120,
    drivers: Annotated[int, typer.Option(min=1, max=100, help="drivers (vans)")] = 4,
    seed: Annotated[int, typer.Option(help="same seed, same day")] = 7,
    out_dir: Annotated[Path, typer.Option("--out", help="where the day's files go (replaced)")] = Path(
        "demo-output"
    ),
    roads: Annotated[
        Path | None,
        typer.Option(help="an .osm.pbf for real streets (default: the Monaco extract, if present)"),
    ] = None,
) -> None:
    """Simulate a whole delivery day on a virtual clock, then print its summary and write a report."""
    from sim.demo import DemoOptions, monaco_extract, run_demo  # noqa: PLC0415 - loads only for this command
    from sim.report import render_table  # noqa: PLC0415

    pbf = roads or monaco_extract()
    for name in (
        "doorstep.db",
        "doorstep.db-wal",
        "doorstep.db-shm",
        "sandbox.db",
        "sandbox.db-wal",
        "sandbox.db-shm",
        "report.html",
    ):
        (out_dir / name).unlink(missing_ok=True)
    day = SystemClock().now().date() + timedelta(days=1)
    options = DemoOptions(out_dir, day, deliveries, drivers, seed, pbf)
    streets = f"real streets of {pbf.name} (OSRM)" if pbf else "straight-line travel times"
    err.print(f"Simulating {deliveries} deliveries and {drivers} drivers on {day:%a %d %b %Y}, {streets}.")
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("preparing", total=1.0)
        result = asyncio.run(
            run_demo(options, lambda share, what: bar.update(task, completed=share, description=what))
        )
    out.print(render_table(result.summary))
    if pbf:
        out.print(OSM_CREDIT)
    out.print(f"Report: {result.report_path.resolve()}", highlight=False)
    url = f"sqlite+aiosqlite:///{result.db_path.resolve()}"
    out.print(f"Look around: DOORSTEP_STORE__URL={url} ./dev doorstep serve", highlight=False, soft_wrap=True)
    if result.link:
        web = _settings().web
        out.print(
            f"A recipient's page, once it serves: http://{web.host}:{web.port}{result.link}", highlight=False
        )


@cli.command()
def plan(day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")]) -> None:
    """Plan a day with VROOM and store routes with planned arrivals and promised windows."""
    when = _date(day)

    async def work(services: Services) -> planning.PlanResult:
        return await planning.plan_date(
            services.store,
            services.clock,
            services.settings.eta,
            services.matrix,
            when,
            actor="cli",
            composer=services.composer,
        )

    result = _run(work)
    stops = sum(len(r.stops) for r in result.routes)
    out.print(
        f"plan v{result.plan.version} for {when}: {len(result.routes)} routes, {stops} stops, "
        f"{len(result.unassigned)} unassigned, solved in {result.plan.solve_ms} ms ({result.plan.matrix})",
        highlight=False,
    )
    if result.kept or result.told:
        out.print(
            f"{result.kept} windows already told kept; {result.told} recipients told of a new window",
            highlight=False,
        )
    _print_unassigned(result.unassigned)


@cli.command()
def routes(day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")]) -> None:
    """Print the day's active plan as a table per driver (times in each delivery's own zone)."""
    when = _date(day)

    async def work(
        services: Services,
    ) -> tuple[PlanHeader | None, list[RouteView], list[UnassignedView]]:
        async with services.store.read() as conn:
            header = await plans.active(conn, when)
            if header is None:
                return None, [], []
            return (
                header,
                await plans.route_views(conn, header.id),
                await plans.unassigned_views(conn, header.id),
            )

    header, views, unassigned = _run(work)
    if header is None:
        err.print(f"no plan for {when} yet: run `doorstep plan --date {when}`")
        raise typer.Exit(1)
    for view in views:
        out.print(_route_table(view))
    _print_unassigned(unassigned)
    if header.matrix.startswith("osrm"):
        out.print(OSM_CREDIT)


@cli.command()
def dispatch(
    drain: Annotated[
        bool, typer.Option(help="stop once nothing is due now, instead of running until stopped")
    ] = False,
) -> None:
    """Send what the outbox holds (runs inside `serve` too); Ctrl-C or SIGTERM stops it cleanly."""

    async def work(services: Services) -> None:
        dispatcher = services.dispatcher()
        if drain:
            await dispatcher.drain()
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await dispatcher.run(stop)

    _run(work)


@cli.command()
def reply(
    delivery: Annotated[str, typer.Argument(help="delivery id or order id")],
    text: Annotated[str, typer.Argument(help="what the recipient writes, e.g. 2, YES, 'SAFE back door'")],
    channel: Annotated[str, typer.Option(help="sms or telegram")] = "sms",
) -> None:
    """Answer as a simulated recipient (sandbox): the reply takes the same path a real SMS would."""

    async def work(services: Services) -> list[str]:
        target: int | str = int(delivery) if delivery.isdigit() else delivery
        inbox_id = await inbound.sandbox_reply(services, target, text, channel)
        async with services.store.read() as conn:
            return await outbox.replies_to(conn, inbox_id) if inbox_id is not None else []

    for answer in _run(work):
        out.print(answer, highlight=False, markup=False)


@cli.command("driver-code")
def driver_code(code: Annotated[str, typer.Argument(help="the driver's code, e.g. D01")]) -> None:
    """A one-time code (valid 24 h) that links a driver's Telegram chat: they send /driver CODE to the bot."""

    async def work(services: Services) -> driver_link.LinkCode:
        return await driver_link.issue_code(services, code, actor="cli")

    issued = _run(work)
    until = issued.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    out.print(f"{issued.driver_code} ({issued.driver_name}): {issued.code}", highlight=False, markup=False)
    err.print(f"Valid once, until {until}. The driver sends the bot: /driver {issued.code}", highlight=False)


@cli.command("outbox")
def outbox_status() -> None:
    """How many messages are in each state (queued, sent, failed, expired, unknown...)."""

    async def work(services: Services) -> dict[str, int]:
        async with services.store.read() as conn:
            return await outbox.counts(conn)

    counts = _run(work)
    for status in sorted(counts):
        out.print(f"{status:>9} {counts[status]}", highlight=False)
    if counts.get("unknown"):
        err.print(
            f"{counts['unknown']} message(s) have an unknown outcome: the provider may or may not have them"
        )


@cli.command()
def status(
    url: Annotated[
        str | None, typer.Option(help="the running server to ask (default http://DOORSTEP_WEB__HOST:PORT)")
    ] = None,
    server: Annotated[bool, typer.Option(help="ask the running server's /readyz for its loops")] = True,
) -> None:
    """Ready or not: the database (one short write), the oldest due message, what was parked after
    failing again and again; then the background loops, as the running server's GET /readyz tells
    them. Exit 1 when the database takes no write or the server says not ready (one that is not
    running is only reported: this command needs no server)."""
    settings = _settings()
    report, parked_in, parked_out = asyncio.run(_local_health(settings))
    _print_health(report, parked_in, parked_out)
    ready = report.database_error is None
    if server:
        base = url or f"http://{settings.web.host}:{settings.web.port}"
        ready = _print_server(base.rstrip("/")) and ready
    if not ready:
        raise typer.Exit(1)


async def _local_health(settings: Settings) -> tuple[health.Report, list[inbox.Parked], list[outbox.Parked]]:
    try:
        store = await open_store(settings.store.url, create=False)  # a read command: never makes one
    except Exception as exc:  # the command is here to say what is wrong, not to end in a traceback
        return health.Report(supervise.describe(exc), 0.0, None, None, None), [], []
    try:
        report = await health.check(store, SystemClock(), settings.health, None)
        try:
            async with store.read() as conn:
                return report, (await inbox.poisoned(conn))[1], (await outbox.poisoned(conn))[1]
        except Exception:  # unreadable: the report says why
            return report, [], []
    finally:
        await store.close()


def _print_health(
    report: health.Report, parked_in: list[inbox.Parked], parked_out: list[outbox.Parked]
) -> None:
    database = f"ok ({report.database_ms:g} ms)" if report.database_error is None else report.database_error
    due = report.oldest_due_seconds
    waiting = "nothing due" if due is None else f"the oldest due message has waited {_duration(due)}"
    waiting = "unknown" if report.parked_inbox is None else waiting  # the database could not be read
    counts = (
        "unknown"
        if report.parked_inbox is None
        else (f"{report.parked_inbox} inbound, {report.parked_outbox} outbound")
    )
    for label, text in (("database", database), ("outbox", waiting), ("parked", counts)):
        out.print(f"{label:<9} {text}", highlight=False, markup=False)
    lines = [
        f"  inbox #{a.id} {a.channel} {a.status}, came {a.received_at:%Y-%m-%d %H:%M}, {a.attempts} tries: "
        f"{a.error}"
        for a in parked_in
    ] + [
        f"  outbox #{m.id} {m.kind} by {m.channel}, due {m.due_at:%Y-%m-%d %H:%M}: {m.error}"
        for m in parked_out
    ]
    for line in lines:
        out.print(line, highlight=False, markup=False)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h" if seconds < 2 * 86400 else f"{seconds / 86400:.0f} days"


def _print_server(base: str) -> bool:
    """The running server's loops, from its /readyz; False when it says it is not ready."""
    try:
        answer = httpx.get(f"{base}/readyz", timeout=5.0)
        facts = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        out.print(f"server    not running at {base} ({type(exc).__name__})", highlight=False, markup=False)
        return True
    out.print(
        f"server    {base}: {'ready' if facts.get('ready') else 'NOT READY'}", highlight=False, markup=False
    )
    for name, loop in sorted(facts.get("loops", {}).items()):
        state = "ok" if loop["ok"] else "alive, no pass lately" if loop["alive"] else "DOWN"
        error = f", last error {loop['last_error']}" if loop["last_error"] else ""
        since, restarts = loop["seconds_since_pass"], loop["restarts"]
        passed = "no pass yet" if since is None else f"last pass {since:g} s ago"
        line = f"  {name:<17} {state}: {passed}, {restarts} restarts{error}"
        out.print(line, highlight=False, markup=False)
    refused = facts.get("refused_webhooks") or {}
    if any(refused.values()):
        counts = ", ".join(f"{provider} {n}" for provider, n in sorted(refused.items()))
        line = f"  refused webhooks  {counts} (bad signature or secret, since the server started)"
        out.print(line, highlight=False, markup=False)
    return bool(facts.get("ready"))


class RoleChoice(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


@users.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="1-64 of a-z, 0-9, '.', '_', '-'")],
    role: Annotated[RoleChoice, typer.Option(help="admin can do everything an agent can, and more")] = (
        RoleChoice.AGENT
    ),
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")
    ] = False,
) -> None:
    """Add a staff account (password: asked twice, hidden; or --password-stdin, or DOORSTEP_NEW_PASSWORD)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif NEW_PASSWORD_ENV in os.environ:
        password = os.environ[NEW_PASSWORD_ENV]
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        staff.check_new_account(username, password)
    except UseCaseError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(1) from None

    async def work(services: Services) -> StaffUser:
        return await staff.add_user(services, username, password, role.value, actor="cli")

    user = _run(work, create=True)  # the first step of a new install (README), before `serve`
    out.print(f"added {user.username} ({user.role})", highlight=False, markup=False)


@users.command("list")
def user_list() -> None:
    """Staff accounts: username, role, created, disabled."""
    table = Table("username", "role", "created (UTC)", "state")
    for user in _run(staff.list_users):
        state = "disabled" if user.disabled else "active"
        table.add_row(user.username, user.role, f"{user.created_at:%Y-%m-%d %H:%M}", state)
    out.print(table)


@users.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="the account to disable")]) -> None:
    """Disable a staff account: it can no longer sign in, and its open sessions end."""

    async def work(services: Services) -> None:
        await staff.disable_user(services, username, actor="cli")

    _run(work)
    out.print(f"disabled {staff.normalize_username(username)}", highlight=False, markup=False)


def _route_table(view: RouteView) -> Table:
    zone = ZoneInfo(view.stops[0].timezone) if view.stops else ZoneInfo("UTC")
    hours = f"{_hm(view.start_at, zone)}-{_hm(view.end_at, zone)}"
    size = f"{len(view.stops)} stops · {view.distance_m / 1000:.1f} km"
    title = f"{view.driver_code} · {view.driver_name} · {hours} · {size}"
    table = Table(title=title, title_justify="left")
    for column in ("#", "order", "recipient", "address", "arrival", "promised", "requested", "status"):
        table.add_column(column, no_wrap=column != "address")
    for s in view.stops:
        zone = ZoneInfo(s.timezone)
        table.add_row(
            str(s.sequence),
            s.order_id,
            s.name,
            s.address,
            _hm(s.planned_arrival, zone),
            f"{_hm(s.promised_start, zone)}-{_hm(s.promised_end, zone)}",
            f"{_hm(s.window_start, zone)}-{_hm(s.window_end, zone)}",
            s.status,
        )
    return table


def _print_unassigned(unassigned: list[UnassignedView]) -> None:
    if not unassigned:
        return
    out.print(f"[yellow]{len(unassigned)} unassigned:[/yellow]")
    for u in unassigned:
        out.print(f"  {u.order_id}: {u.reason}", highlight=False, markup=False)


def _hm(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]error:[/red] --date {text!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None


if __name__ == "__main__":
    main()
