"""The staff console: a Sanic app with server-rendered pages (Jinja2, htmx for small updates).

Every route but the login page, static files and /health needs a session; every POST needs
the session's CSRF token. Database work runs in threads (`blocking`), so one slow query
never holds up another request, and the console runs in its own process, so nothing here
slows the assistant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial, wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import delete, select

from actions import records
from actions.clinic_config import CLINIC_FACTS
from actions.privacy import access
from actions.records import Booking, Handoff
from channels.rate_limit import LOGIN, Limit, RateLimiter, client_address, retry_after, trust_proxies
from console import accounts, audit, conversations, dashboard, export, queues, tracker
from console.assistant import AssistantClient
from console.indexer import Indexer
from console.masking import mask_contact, mask_email, mask_name, mask_phone, mask_text
from console.models import ROLES, ConversationNote, ConversationTag, Relabel
from console.sessions import COOKIE, LOGIN_CSRF_COOKIE, SessionExpired, Sessions, cookie_options, same_token
from console.settings import ConsoleSettings
from console.transcript import lines_of

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PUBLIC_PATHS = ("/login", "/static/", "/health", "/favicon.ico")
CAN_REVEAL = ("clinician", "admin")
INDEX_SECONDS = 2.0
T = TypeVar("T")


async def blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(partial(function, *args, **kwargs))


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.globals.update(
        channel_name=conversations.channel_name,
        mask_phone=mask_phone,
        mask_email=mask_email,
        mask_name=mask_name,
        mask_contact=mask_contact,
        mask_text=mask_text,
        urlencode=urlencode,
        quote=lambda value: quote(str(value), safe=""),
        shown_id=shown_id,
    )
    env.filters["when"] = lambda moment: moment.astimezone().strftime("%d %b %Y %H:%M") if moment else "—"
    return env


def shown_id(conversation_id: str) -> str:
    """A WhatsApp conversation without a business-scoped id is keyed on the phone number."""
    digits = conversation_id.lstrip("+")
    return mask_phone("+" + digits) if digits.isdigit() and len(digits) >= 7 else conversation_id


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.path.startswith("/api/")


def security_headers(reply: HTTPResponse) -> None:
    reply.headers.update(
        {
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-store",
        }
    )


def requires(*roles: str):
    """Only these roles may use the route; the others get 403 with a sentence why."""

    def decorate(handler):
        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            if request.ctx.account.role not in roles:
                message = f"This needs the {' or '.join(roles)} role; you are signed in as {request.ctx.account.role}."
                return request.app.ctx.page(request, "error.html", status=403, message=message)
            return await handler(request, *args, **kwargs)

        return guarded

    return decorate


def create_app(settings: ConsoleSettings, name: str = "staff_console") -> Sanic:
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "text"
    trust_proxies(app)
    # Login attempts per client address, before any account is looked at: guessing across many
    # names is slowed down too, and refused attempts never count towards an account's lock-out.
    logins = RateLimiter(Limit.from_environment("login", LOGIN))
    sessions = Sessions(settings.secret, int(settings.session_hours * 3600))
    jinja = templates()
    indexer = Indexer(settings.tracker_url, settings.records_url)
    assistant = AssistantClient(settings.rasa_url, settings.staff_token, settings.rasa_token)
    url = settings.records_url
    secure_cookies = settings.secure_cookies
    app.static("/static", str(HERE / "static"), name="static")

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
        account = getattr(request.ctx, "account", None)
        html = jinja.get_template(template).render(
            account=account,
            csrf=getattr(request.ctx, "csrf", ""),
            can_reveal=account is not None and account.role in CAN_REVEAL,
            clinic=CLINIC_FACTS.current(),
            path=request.path,
            **context,
        )
        return response.html(html, status=status)

    app.ctx.page = page

    # --- sessions, CSRF and headers -------------------------------------------------------

    @app.on_request
    async def authenticate(request: Request) -> HTTPResponse | None:
        if request.path.startswith(PUBLIC_PATHS):
            return None
        try:
            session = sessions.read(request.cookies.get(COOKIE))
            expired = False
        except SessionExpired:
            session, expired = None, True
        account = await blocking(accounts.account_by_id, session.account_id, url) if session else None
        if account is None or not account.active or account.session_epoch != session.epoch:
            return refuse(request, expired)
        request.ctx.account, request.ctx.csrf = account, session.csrf
        if request.method == "POST":
            given = request.headers.get("x-csrf-token") or (request.form.get("csrf") if request.form else None)
            if not same_token(given, session.csrf):
                return response.text("The form was out of date or not from this console; reload and try again.", 403)
        return None

    def refuse(request: Request, expired: bool) -> HTTPResponse:
        # Only a page the person navigated to goes to the login page; anything the browser
        # fetches by itself gets 401 (a redirect would render the login form again, and a
        # new login token would make the form on screen out of date).
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        query = urlencode({"next": target, **({"expired": "1"} if expired else {})})
        if request.headers.get("hx-request"):  # htmx sends the whole page to the login form
            return response.text("", headers={"HX-Redirect": f"/login?{query}"})
        fetched = request.headers.get("sec-fetch-dest", "document") not in ("document", "iframe")
        if wants_json(request) or fetched:
            return response.json({"error": "Log in to the staff console first."}, status=401)
        return response.redirect(f"/login?{query}")

    @app.on_response
    async def headers(_: Request, reply: HTTPResponse) -> None:
        security_headers(reply)

    # --- login ----------------------------------------------------------------------------

    def login_page(request: Request, status: int = 200, **context: Any) -> HTTPResponse:
        # One token per browser, kept across reloads, so two login tabs don't undo each other.
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        reply = page(request, "login.html", status=status, login_csrf=token, next=safe_next(request), **context)
        reply.cookies[LOGIN_CSRF_COOKIE] = token
        reply.cookies[LOGIN_CSRF_COOKIE].update(cookie_options(600, secure_cookies))
        return reply

    @app.get("/login")
    async def show_login(request: Request) -> HTTPResponse:
        expired = request.args.get("expired") == "1"
        return login_page(request, notice="Your session expired; please log in again." if expired else None)

    @app.post("/login")
    async def do_login(request: Request) -> HTTPResponse:
        if wait := logins.take(client_address(request)):
            seconds = retry_after(wait)
            error = f"Too many login attempts from your address: please wait {seconds} seconds and try again."
            reply = login_page(request, 429, error=error)
            reply.headers["Retry-After"] = str(seconds)
            return reply
        form = request.form or {}
        if not same_token(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return login_page(request, 403, error="The login form was out of date; please try again.")
        name, password = (form.get("name") or "").strip(), form.get("password") or ""
        result = await blocking(accounts.log_in, name, password, url)
        if not result.ok:
            if result.locked_until:
                minutes = max(1, round((result.locked_until - records.utcnow()).total_seconds() / 60))
                error = f"Too many failed attempts: this account is locked for {minutes} more minutes."
            else:
                error = "That name and password don't match an account."
            return login_page(request, 401, error=error, name=name)
        cookie = sessions.issue(result.account.id, result.account.session_epoch)
        reply = response.redirect(safe_next(request))
        reply.cookies[COOKIE] = cookie
        reply.cookies[COOKIE].update(cookie_options(sessions.max_age_seconds, secure_cookies))
        del reply.cookies[LOGIN_CSRF_COOKIE]
        return reply

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        await blocking(accounts.end_sessions, request.ctx.account.id, url)
        reply = response.redirect("/login")
        del reply.cookies[COOKIE]
        return reply

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/favicon.ico")
    async def favicon(_: Request) -> HTTPResponse:
        return response.empty()  # browsers ask for it on every page; the pages declare none

    # --- keeping the index fresh ----------------------------------------------------------

    async def catch_up() -> None:
        await blocking(indexer.catch_up)

    @app.after_server_start
    async def index_in_background(app_: Sanic, _loop: Any) -> None:
        async def loop() -> None:
            failing = False
            while True:
                try:
                    await catch_up()
                    if failing:
                        logger.info("Indexing the tracker store works again.")
                    failing = False
                except Exception:  # e.g. the tracker store has no table before the first chat
                    if not failing:
                        logger.exception("Could not index the tracker store; retrying every %ss", INDEX_SECONDS)
                    failing = True
                await asyncio.sleep(INDEX_SECONDS)

        app_.ctx.indexing = asyncio.create_task(loop())

    @app.before_server_stop
    async def stop_indexing(app_: Sanic, _loop: Any) -> None:
        if task := getattr(app_.ctx, "indexing", None):
            task.cancel()

    async def fresh_index() -> None:
        """Pages that list conversations index what was said since the last pass first."""
        with contextlib.suppress(Exception):  # the background loop keeps trying; the page shows what is indexed
            await catch_up()

    # --- overview -------------------------------------------------------------------------

    @app.get("/")
    async def overview(request: Request) -> HTTPResponse:
        await fresh_index()
        today = datetime.now(timezone.utc).date()
        numbers = await blocking(in_session, url, dashboard.overview, today)
        return page(request, "dashboard.html", overview=numbers)

    # --- conversations --------------------------------------------------------------------

    @app.get("/conversations")
    async def conversation_list(request: Request) -> HTTPResponse:
        await fresh_index()
        args = {key: request.args.get(key) for key in request.args}
        filters = conversations.Filters.from_args(args)
        number = int(args.get("page") or 1) if (args.get("page") or "1").isdigit() else 1
        found, tags = await blocking(
            in_session, url, lambda db: (conversations.page_of(db, filters, number), conversations.all_tags(db))
        )
        context = {"page": found, "filters": filters, "all_tags": tags, "region": CLINIC_FACTS.current().phone_region}
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
            return page(request, "_conversation_rows.html", **context)
        return page(request, "conversations.html", **context)

    @app.get("/api/conversations")
    async def conversation_list_json(request: Request) -> HTTPResponse:
        await fresh_index()
        filters = conversations.Filters.from_args({key: request.args.get(key) for key in request.args})
        found = await blocking(in_session, url, conversations.page_of, filters, 1)
        region = CLINIC_FACTS.current().phone_region
        return response.json(
            {
                "total": found.total,
                "conversations": [
                    {
                        "id": row.conversation_id,
                        "channel": conversations.channel_name(row.channel),
                        "last_at": row.last_at.isoformat(),
                        "first_question": mask_text(row.first_question or "", region),
                        "outcome": row.screening_outcome,
                        "booked": row.booked,
                        "handed_off": row.handed_off,
                        "reviewed": row.reviewed,
                    }
                    for row in found.rows
                ],
            }
        )

    async def conversation_page(
        request: Request, conversation_id: str, reveal: bool = False, status: int = 200, **extra: Any
    ) -> HTTPResponse:
        events = await blocking(tracker.conversation_events, settings.tracker_url, conversation_id)
        if not events:
            return page(request, "error.html", status=404, message="There is no conversation with that id.")
        details = await blocking(in_session, url, conversation_details, conversation_id)
        lines = lines_of(events, CLINIC_FACTS.current().phone_region, reveal, details["relabels"])
        return page(
            request,
            "conversation.html",
            status=status,
            conversation_id=conversation_id,
            lines=lines,
            reveal=reveal,
            labels=export.labels(),
            paused=is_paused(events),
            **details,
            **extra,
        )

    @app.get("/conversations/<conversation_id>")
    async def show_conversation(request: Request, conversation_id: str) -> HTTPResponse:
        await fresh_index()
        return await conversation_page(request, conversation_id)

    @app.post("/conversations/<conversation_id>/reveal")
    @requires(*CAN_REVEAL)
    async def reveal(request: Request, conversation_id: str) -> HTTPResponse:
        detail = "contact details, names and health details shown"
        await blocking(audit.write, request.ctx.account.name, "reveal", conversation_id, detail, url=url)
        return await conversation_page(request, conversation_id, reveal=True)

    @app.post("/conversations/<conversation_id>/tags")
    async def add_tag(request: Request, conversation_id: str) -> HTTPResponse:
        tag = conversations.clean_tag(request.form.get("tag") or "")
        if tag:
            await blocking(in_session, url, save_tag, conversation_id, tag)
        return back_to(conversation_id, "#review")

    @app.post("/conversations/<conversation_id>/tags/remove")
    async def remove_tag(request: Request, conversation_id: str) -> HTTPResponse:
        tag = request.form.get("tag") or ""
        await blocking(
            in_session,
            url,
            lambda db: db.execute(
                delete(ConversationTag).where(
                    ConversationTag.conversation_id == conversation_id, ConversationTag.tag == tag
                )
            ),
        )
        return back_to(conversation_id, "#review")

    @app.post("/conversations/<conversation_id>/review")
    async def mark_reviewed(request: Request, conversation_id: str) -> HTTPResponse:
        reviewed = request.form.get("reviewed") == "yes"
        await blocking(in_session, url, set_reviewed, conversation_id, reviewed, request.ctx.account.name)
        return back_to(conversation_id, "#review")

    @app.post("/conversations/<conversation_id>/notes")
    async def add_note(request: Request, conversation_id: str) -> HTTPResponse:
        text = (request.form.get("text") or "").strip()[:4000]
        if text:
            note = ConversationNote(conversation_id=conversation_id, author=request.ctx.account.name, text=text)
            await blocking(in_session, url, lambda db: db.add(note))
        return back_to(conversation_id, "#notes")

    @app.post("/conversations/<conversation_id>/relabel")
    async def relabel(request: Request, conversation_id: str) -> HTTPResponse:
        label = request.form.get("label") or ""
        event_id = request.form.get("event_id") or ""
        if label not in export.labels() or not event_id.isdigit():
            return await conversation_page(
                request, conversation_id, status=400, error="Choose one of the listed intents or FAQ answers."
            )
        events = await blocking(tracker.conversation_events, settings.tracker_url, conversation_id)
        message = next((e for e in events if e.id == int(event_id) and e.data.get("event") == "user"), None)
        if message is None:
            return await conversation_page(request, conversation_id, status=400, error="That message is not here.")
        await blocking(save_relabel, url, conversation_id, message, label, request.ctx.account.name)
        return back_to(conversation_id, f"#message-{event_id}")

    @app.get("/exports/nlu.yml")
    @requires(*CAN_REVEAL)  # exports hold what visitors wrote, unmasked
    async def export_nlu(request: Request) -> HTTPResponse:
        corrections = await blocking(in_session, url, lambda db: list(db.scalars(select(Relabel).order_by(Relabel.id))))
        await blocking(
            audit.write, request.ctx.account.name, "export", "nlu.yml", f"{len(corrections)} corrections", url=url
        )
        return download(export.nlu_yaml(corrections), "corrections-nlu.yml")

    @app.get("/conversations/<conversation_id>/story.yml")
    @requires(*CAN_REVEAL)
    async def export_story(request: Request, conversation_id: str) -> HTTPResponse:
        story = await assistant.story(conversation_id)
        if not story.ok:
            return await conversation_page(request, conversation_id, status=502, error=story.message)
        corrections = await blocking(
            in_session,
            url,
            lambda db: list(db.scalars(select(Relabel).where(Relabel.conversation_id == conversation_id))),
        )
        await blocking(audit.write, request.ctx.account.name, "export", conversation_id, "test story", url=url)
        return download(export.corrected_story(story.body, corrections), f"story-{safe_file(conversation_id)}.yml")

    @app.post("/conversations/<conversation_id>/reply")
    async def reply(request: Request, conversation_id: str) -> HTTPResponse:
        text = (request.form.get("text") or "").strip()
        if not text:
            return await conversation_page(request, conversation_id, status=400, error="Write a reply first.")
        sent = await assistant.reply(conversation_id, text, request.ctx.account.name)
        if not sent.ok:
            return await conversation_page(request, conversation_id, status=502, error=sent.message, draft=text)
        await blocking(
            audit.write, request.ctx.account.name, "reply", conversation_id, f"{len(text)} characters", url=url
        )
        return back_to(conversation_id, "#reply")

    @app.post("/conversations/<conversation_id>/resume")
    async def resume(request: Request, conversation_id: str) -> HTTPResponse:
        resumed = await assistant.resume(conversation_id)
        if not resumed.ok:
            return await conversation_page(request, conversation_id, status=502, error=resumed.message)
        await blocking(audit.write, request.ctx.account.name, "resume", conversation_id, url=url)
        return back_to(conversation_id, "#reply")

    @app.post("/conversations/<conversation_id>/erase")
    @requires(*CAN_REVEAL)
    async def erase(request: Request, conversation_id: str) -> HTTPResponse:
        """The visitor's right to erasure, when they ask staff instead of the assistant."""
        if request.form.get("confirm") != "yes":
            error = "Tick the box to confirm the visitor asked for their data to be deleted."
            return await conversation_page(request, conversation_id, status=400, error=error)
        erased = await assistant.erase(conversation_id, request.ctx.account.name)
        if not erased.ok:
            return await conversation_page(request, conversation_id, status=502, error=erased.message)
        kept = ", ".join(erased.data["booking_references"]) or "none"
        await blocking(
            audit.write, request.ctx.account.name, "erase", erased.data["reference"], f"bookings kept: {kept}", url=url
        )
        return page(request, "erased.html", reference=erased.data["reference"], kept=kept)

    @app.get("/conversations/<conversation_id>/visitor.json")
    @requires(*CAN_REVEAL)
    async def export_visitor(request: Request, conversation_id: str) -> HTTPResponse:
        """The visitor's right of access: everything held about this conversation."""
        held = await blocking(access.export_visitor, conversation_id, url, settings.tracker_url)
        await blocking(audit.write, request.ctx.account.name, "export", conversation_id, "visitor data", url=url)
        return response.json(
            held,
            headers={"Content-Disposition": f'attachment; filename="visitor-{safe_file(conversation_id)}.json"'},
            ensure_ascii=False,
            indent=2,
        )

    # --- bookings and handoffs ------------------------------------------------------------

    async def queue_page(request: Request, kind: str) -> HTTPResponse:
        model = Booking if kind == "bookings" else Handoff
        open_only = request.args.get("all") != "1"
        items = await blocking(in_session, url, queues.queue, model, kind.removesuffix("s"), open_only)
        region = CLINIC_FACTS.current().phone_region
        return page(request, "queue.html", kind=kind.removesuffix("s"), items=items, open_only=open_only, region=region)

    async def retry(request: Request, reference: str, kind: str) -> HTTPResponse:
        count = await blocking(in_session, url, queues.retry, kind.removesuffix("s"), reference)
        await blocking(
            audit.write, request.ctx.account.name, "retry_delivery", reference, f"{count} deliveries", url=url
        )
        return response.redirect(f"/{kind}")

    async def handled(request: Request, reference: str, kind: str) -> HTTPResponse:
        model = Booking if kind == "bookings" else Handoff
        await blocking(in_session, url, queues.mark_handled, model, reference, request.ctx.account.name)
        await blocking(audit.write, request.ctx.account.name, "mark_handled", reference, url=url)
        return response.redirect(f"/{kind}")

    async def reveal_contact(request: Request, reference: str, kind: str) -> HTTPResponse:
        model = Booking if kind == "bookings" else Handoff
        row = await blocking(
            in_session, url, lambda db: db.scalars(select(model).where(model.reference == reference)).one_or_none()
        )
        if row is None:
            return response.text("No such record.", status=404)
        await blocking(audit.write, request.ctx.account.name, "reveal", reference, "contact details shown", url=url)
        return page(request, "_contact.html", record=row, kind=kind.removesuffix("s"), reveal=True)

    for kind in ("bookings", "handoffs"):
        app.add_route(partial(queue_page, kind=kind), f"/{kind}", methods=["GET"], name=f"{kind}_queue")
        app.add_route(partial(retry, kind=kind), f"/{kind}/<reference>/retry", methods=["POST"], name=f"retry_{kind}")
        app.add_route(
            partial(handled, kind=kind), f"/{kind}/<reference>/handled", methods=["POST"], name=f"handled_{kind}"
        )
        app.add_route(
            requires(*CAN_REVEAL)(partial(reveal_contact, kind=kind)),
            f"/{kind}/<reference>/reveal",
            methods=["POST"],
            name=f"reveal_{kind}",
        )

    # --- accounts and audit log (admins) --------------------------------------------------

    @app.get("/accounts")
    @requires("admin")
    async def account_list(request: Request) -> HTTPResponse:
        return page(request, "accounts.html", accounts=await blocking(accounts.accounts, url), roles=ROLES)

    @app.post("/accounts")
    @requires("admin")
    async def save_account(request: Request) -> HTTPResponse:
        form = request.form
        try:
            await blocking(
                accounts.save_account,
                (form.get("name") or "").strip(),
                form.get("role") or "",
                form.get("password") or "",
                request.ctx.account.name,
                url,
            )
        except accounts.AccountError as error:
            listing = await blocking(accounts.accounts, url)
            return page(request, "accounts.html", status=400, accounts=listing, roles=ROLES, error=str(error))
        return response.redirect("/accounts")

    @app.post("/accounts/<name>/active")
    @requires("admin")
    async def set_active(request: Request, name: str) -> HTTPResponse:
        active = request.form.get("active") == "yes"
        if name == request.ctx.account.name and not active:
            return response.text("You cannot disable your own account.", status=400)
        await blocking(accounts.set_active, name, active, request.ctx.account.name, url)
        return response.redirect("/accounts")

    @app.get("/audit")
    @requires("admin")
    async def audit_log(request: Request) -> HTTPResponse:
        number = int(request.args.get("page", "1")) if request.args.get("page", "1").isdigit() else 1
        entries, total = await blocking(audit.entries, max(1, number), url)
        return page(request, "audit.html", entries=entries, total=total, number=number, page_size=audit.PAGE_SIZE)

    return app


# --- helpers that run in threads -----------------------------------------------------------


def in_session(url: str, work: Callable[..., T], *args: Any) -> T:
    with records.session(url) as db:
        return work(db, *args)


def conversation_details(db, conversation_id: str) -> dict[str, Any]:
    summary = conversations.summary_of(db, conversation_id)
    notes = db.scalars(
        select(ConversationNote)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.id)
    )
    relabels = db.scalars(select(Relabel).where(Relabel.conversation_id == conversation_id))
    return {
        "summary": summary,
        "tags": conversations.tags_of(db, [conversation_id])[conversation_id],
        "notes": list(notes),
        "relabels": {r.event_id: r.corrected for r in relabels},
        "records": queues.for_conversation(db, conversation_id),
    }


def save_tag(db, conversation_id: str, tag: str) -> None:
    if db.get(ConversationTag, (conversation_id, tag)) is None:
        db.add(ConversationTag(conversation_id=conversation_id, tag=tag))


def set_reviewed(db, conversation_id: str, reviewed: bool, by: str) -> None:
    summary = conversations.summary_of(db, conversation_id)
    if summary is not None:
        summary.reviewed = reviewed
        summary.reviewed_at, summary.reviewed_by = (records.utcnow(), by) if reviewed else (None, None)


def save_relabel(url: str, conversation_id: str, message: tracker.TrackerEvent, label: str, author: str) -> None:
    parse_data = message.data.get("parse_data") or {}
    key = tracker.answer_key(parse_data)
    predicted = key or (parse_data.get("intent") or {}).get("name")
    with records.session(url) as db:
        row = db.scalars(
            select(Relabel).where(Relabel.conversation_id == conversation_id, Relabel.event_id == message.id)
        ).one_or_none()
        if row is None:
            row = Relabel(conversation_id=conversation_id, event_id=message.id, text=message.data.get("text") or "")
            db.add(row)
        row.predicted, row.corrected, row.author, row.at = predicted, label, author, records.utcnow()
        row.confidence = (parse_data.get("intent") or {}).get("confidence")
        audit.record(db, author, "relabel", conversation_id, f"message {message.id}: {predicted} → {label}")


def is_paused(events: list[tracker.TrackerEvent]) -> bool:
    for event in reversed(events):
        kind = event.data.get("event")
        if kind == "pause":
            return True
        if kind in ("resume", "restart", "session_started"):
            return False
    return False


def back_to(conversation_id: str, anchor: str) -> HTTPResponse:
    return response.redirect(f"/conversations/{quote(conversation_id, safe='')}{anchor}")


def download(body: str, filename: str) -> HTTPResponse:
    return response.text(
        body,
        content_type="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def safe_file(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:80]


def safe_next(request: Request) -> str:
    """Only a path on this console (never another site) after logging in."""
    target = request.args.get("next") or (request.form.get("next") if request.form else None) or "/"
    return target if target.startswith("/") and not target.startswith("//") else "/"


def main() -> None:
    settings = ConsoleSettings.from_environment()
    app = create_app(settings)
    app.run(host=settings.host, port=settings.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
