"""Portal pages for charging: find an EVSE by its printed id, the start page with the price, the start request's
progress (and its JSON status, polled only until the request settles), the session page (live over the
websocket while it runs, the price explanation after) and stopping. Transport only; every object is reached
through the signed-in user's visible sessions, cards and own requests."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.portal.access import customer_required, sees_whole_account, visible_sessions
from stations.models import ChargingSession, Evse

from .sessions import (
    StopRefused,
    charging_stop,
    kw,
    kwh,
    live_figures,
    session_outcome,
    session_with_relations,
    stop_outcome_message,
)
from .starting import (
    APP_CHOICE,
    StartRefused,
    charging_start,
    evse_for_portal,
    start_command_for,
    start_offer,
    start_progress,
)


def _evse_or_404(evse_id: str) -> Evse:
    try:
        return evse_for_portal(evse_id)
    except Evse.DoesNotExist:
        raise Http404("No such charging point.") from None


@customer_required
@require_GET
def charge_find(request: HttpRequest) -> HttpResponse:
    """Type the EVSE id printed on the charging point (what its QR code also opens)."""
    evse_id = request.GET.get("evse_id", "").strip()
    error = ""
    if evse_id:
        try:
            return redirect("portal:start", evse_id=evse_for_portal(evse_id).evse_id)
        except Evse.DoesNotExist:
            error = _("No charging point has the id %(evse_id)s. Check the id printed on the charging point.") % {
                "evse_id": evse_id[:48]}
    return render(request, "portal/charging/find.html", {"evse_id": evse_id[:48], "error": error},
                  status=404 if error else 200)


@customer_required
@require_http_methods(["GET", "POST"])
def charge_start(request: HttpRequest, evse_id: str) -> HttpResponse:
    evse = _evse_or_404(evse_id)
    if request.method == "POST":
        choice = request.POST.get("token", "")
        try:
            command = charging_start(user=request.user, evse=evse, choice=choice)
        except StartRefused as refusal:
            messages.error(request, refusal.message)
        except ValidationError:
            messages.error(request, _("The start request could not be sent. Please try again."))
        else:
            return redirect("portal:start-progress", command_id=command.pk)
    offer = start_offer(user=request.user, evse=evse)
    return render(request, "portal/charging/start.html", {
        "offer": offer, "app_choice": APP_CHOICE, "whole_account": sees_whole_account(request.user),
        "chosen": request.POST.get("token", APP_CHOICE if not offer.tokens else str(offer.tokens[0].pk)),
    }, status=409 if request.method == "POST" else 200)


def _command_or_404(request: HttpRequest, command_id: int):
    command = start_command_for(user=request.user, command_id=command_id)
    if command is None:
        raise Http404("No such start request.")
    return command


@customer_required
@require_GET
def start_progress_page(request: HttpRequest, command_id: int) -> HttpResponse:
    command = _command_or_404(request, command_id)
    progress = start_progress(command)
    if progress.settled and progress.session is not None:
        return redirect("portal:session", pk=progress.session.pk)  # the station answered before the page loaded
    evse = Evse.objects.filter(charge_point=command.charge_point,
                               ocpp_evse_id=(command.payload or {}).get("connectorId")).first()
    return render(request, "portal/charging/progress.html", {
        "command": command, "progress": progress, "evse": evse,
        "status_url": reverse("portal:start-status", args=[command.pk]),
    })


@customer_required
@require_GET
def start_status(request: HttpRequest, command_id: int) -> JsonResponse:
    progress = start_progress(_command_or_404(request, command_id))
    return JsonResponse({
        "state": progress.state, "code": progress.code, "message": progress.message, "settled": progress.settled,
        "session_url": reverse("portal:session", args=[progress.session.pk]) if progress.session else None,
    })


def clock_duration(since) -> str:
    """H:MM:SS since `since`, as the page's script goes on counting."""
    seconds = max(int((timezone.now() - since).total_seconds()), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@customer_required
@require_GET
def session_page(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_with_relations(visible_sessions(request.user), pk)
    if session is None:
        raise Http404("No such session.")
    active = session.state == ChargingSession.State.ACTIVE
    figures = live_figures(session) if active else {}
    cost = figures.get("cost")
    return render(request, "portal/charging/session.html", {
        "session": session, "active": active, "figures": figures,
        "energy_kwh": kwh(figures.get("energy_wh")), "power_kw": kw(figures.get("power_w")),
        "cost_amount": Decimal(cost["amount"]) if cost else None,
        "duration": clock_duration(session.started_at) if active else "",
        "outcome": None if active else session_outcome(session),
        "socket_path": f"/ws/portal/sessions/{session.pk}/",
    })


@customer_required
@require_POST
def session_stop(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_with_relations(visible_sessions(request.user), pk)
    if session is None:
        raise Http404("No such session.")
    try:
        command = charging_stop(user=request.user, session=session)
    except StopRefused as refusal:
        messages.warning(request, refusal.message)
    except ValidationError:
        messages.error(request, _("The stop request could not be sent. Please try again."))
    else:
        level, message = stop_outcome_message(command)
        {"bad": messages.error, "ok": messages.success}.get(level, messages.info)(request, message)
    return redirect("portal:session", pk=session.pk)
