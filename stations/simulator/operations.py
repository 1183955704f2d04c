"""How a simulated OCPP 1.6 station answers every Central System operation of the six feature profiles, and
what it then does. Answers come from `@on` handlers; follow-up messages (status, firmware progress, a
triggered message) are sent by `@after` hooks in their own tasks, because a CALL sent from inside a handler
would wait for an answer that the busy receive loop cannot read.
"""

import asyncio
import logging
from datetime import datetime

from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from stations.simulator.charging import ConnectorSpec
from stations.simulator.state import Reservation

logger = logging.getLogger("stations.simulator")

FIRMWARE_STEP_S = 30  # station seconds per firmware / diagnostics step


class CsmsOperations:
    """Mixed into SimulatedStation (station.py), whose state and messages these handlers use."""

    # --- Core -----------------------------------------------------------------------------------------
    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, id_tag, connector_id=None, charging_profile=None, **_):
        free = [c for c in self.connectors.values() if c.free_for(id_tag)]
        if connector_id is not None:
            free = [c for c in free if c.spec.connector_id == connector_id]
        if not free or (charging_profile and charging_profile.get("charging_profile_purpose") != "TxProfile"):
            return call_result.RemoteStartTransaction(status="Rejected")
        session = self.claim(free[0].spec.connector_id, id_tag, remote=True)
        session.charging_profile = charging_profile
        self._remote_claims.append(session)
        return call_result.RemoteStartTransaction(status="Accepted")

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, id_tag, **_):
        session = next((s for s in self._remote_claims if s.id_tag == id_tag), None)
        if session is not None:
            self._remote_claims.remove(session)
            self._spawn(self.run_session(session), f"session {session.connector_id}")

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id, **_):
        session = self._session_of(transaction_id)
        return call_result.RemoteStopTransaction(status="Accepted" if session else "Rejected")

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, transaction_id, **_):
        session = self._session_of(transaction_id)
        if session is not None:
            session.request_stop("Remote")

    @on(Action.reset)
    def on_reset(self, type, **_):
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type, **_):
        self._reboot_task = self._spawn(self.reboot(type), "reset")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id, **_):
        return call_result.UnlockConnector(status="Unlocked" if connector_id in self.connectors else "NotSupported")

    @after(Action.unlock_connector)
    def after_unlock_connector(self, connector_id, **_):
        connector = self.connectors.get(connector_id)
        if connector is not None and connector.session is not None:
            connector.session.request_stop("UnlockCommand")

    @on(Action.change_availability)
    def on_change_availability(self, connector_id, type, **_):
        targets = self._availability_targets(connector_id)
        if targets is None:
            return call_result.ChangeAvailability(status="Rejected")
        operative, scheduled = type == "Operative", False
        for connector in targets:
            if connector.session is not None and connector.operative != operative:
                connector.pending_operative, scheduled = operative, True  # after the running session
            else:
                connector.operative = operative
        return call_result.ChangeAvailability(status="Scheduled" if scheduled else "Accepted")

    @after(Action.change_availability)
    def after_change_availability(self, connector_id, type, **_):
        async def report():
            if connector_id == 0:
                await self.notify_status(0, "Available" if type == "Operative" else "Unavailable")
            for connector in self._availability_targets(connector_id) or []:
                if connector.session is None and connector.status != connector.idle_status:
                    await self.notify_status(connector.spec.connector_id, connector.idle_status)

        self._spawn(report(), "availability")

    def _availability_targets(self, connector_id: int):
        if connector_id == 0:
            return list(self.connectors.values())
        return [self.connectors[connector_id]] if connector_id in self.connectors else None

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **_):
        return call_result.ChangeConfiguration(status=self.config.change(key, value))

    @after(Action.change_configuration)
    def after_change_configuration(self, key, value, **_):
        if key == "HeartbeatInterval":
            self.restart_heartbeat()

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **_):
        known, unknown = self.config.get(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.clear_cache)
    def on_clear_cache(self, **_):
        self.auth_cache.clear()
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id, **_):
        return call_result.DataTransfer(status="UnknownVendorId")

    # --- Firmware management --------------------------------------------------------------------------
    @on(Action.update_firmware)
    def on_update_firmware(self, location, retrieve_date, **_):
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    def after_update_firmware(self, location, retrieve_date, **_):
        self._spawn(self._update_firmware(location, datetime.fromisoformat(retrieve_date)), "firmware")

    async def _update_firmware(self, location: str, retrieve_at: datetime) -> None:
        await asyncio.sleep(max((retrieve_at - self.clock.now()).total_seconds(), 0))  # a wall-clock time
        for status in ("Downloading", "Downloaded", "Installing"):
            await self._firmware_status(status)
            await self.clock.sleep(FIRMWARE_STEP_S)
        self.firmware_version = (location.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "updated")[:50]
        await self._firmware_status("Installed")
        logger.info("%s installed firmware %s", self.id, self.firmware_version)

    async def _firmware_status(self, status: str) -> None:
        self.firmware_status = status
        await self.send(call.FirmwareStatusNotification(status=status))

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location, **_):
        self._diagnostics_file = f"{self.id}-diagnostics-{self.clock.now():%Y%m%dT%H%M%SZ}.zip"
        return call_result.GetDiagnostics(file_name=self._diagnostics_file)

    @after(Action.get_diagnostics)
    def after_get_diagnostics(self, location, **_):
        async def upload():
            for status in ("Uploading", "Uploaded"):
                self.diagnostics_status = status
                await self.send(call.DiagnosticsStatusNotification(status=status))
                await self.clock.sleep(FIRMWARE_STEP_S)

        self._spawn(upload(), "diagnostics")

    # --- Local authorisation list management ----------------------------------------------------------
    @on(Action.send_local_list)
    def on_send_local_list(self, list_version, update_type, local_authorization_list=None, **_):
        if not self.config.bool("LocalAuthListEnabled"):
            return call_result.SendLocalList(status="NotSupported")
        entries = local_authorization_list or []
        if update_type == "Differential" and list_version <= self.local_list_version:
            return call_result.SendLocalList(status="VersionMismatch")
        held = {} if update_type == "Full" else dict(self.local_list)
        for entry in entries:
            if entry.get("id_tag_info"):
                held[entry["id_tag"]] = entry["id_tag_info"]
            else:
                held.pop(entry["id_tag"], None)  # no idTagInfo: remove the tag from the list
        if len(entries) > self.config.int("SendLocalListMaxLength") or len(held) > self.config.int(
                "LocalAuthListMaxLength"):
            return call_result.SendLocalList(status="Failed")
        self.local_list, self.local_list_version = held, list_version
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_):
        if not self.config.bool("LocalAuthListEnabled"):
            return call_result.GetLocalListVersion(list_version=-1)
        return call_result.GetLocalListVersion(list_version=self.local_list_version if self.local_list else 0)

    # --- Reservation ----------------------------------------------------------------------------------
    @on(Action.reserve_now)
    def on_reserve_now(self, connector_id, expiry_date, id_tag, reservation_id, parent_id_tag=None, **_):
        status = self._reservation_refusal(connector_id, reservation_id)
        if status is None:
            self.reservation_end(self._reservation(reservation_id))  # the same id again replaces it
            reservation = Reservation(reservation_id, connector_id, id_tag, datetime.fromisoformat(expiry_date),
                                      parent_id_tag)
            if connector_id == 0:
                self.station_reservation = reservation
            else:
                self.connectors[connector_id].reservation = reservation
            status = "Accepted"
        return call_result.ReserveNow(status=status)

    def _reservation_refusal(self, connector_id: int, reservation_id: int) -> str | None:
        if connector_id == 0:
            if not self.config.bool("ReserveConnectorZeroSupported"):
                return "Rejected"
            return None if any(c.free_for(None) for c in self.connectors.values()) else "Occupied"
        connector = self.connectors.get(connector_id)
        if connector is None:
            return "Rejected"
        if connector.status == "Faulted":
            return "Faulted"
        if not connector.operative:
            return "Unavailable"
        held = connector.reservation
        if connector.session is not None or (held is not None and held.reservation_id != reservation_id):
            return "Occupied"
        return None

    @after(Action.reserve_now)
    def after_reserve_now(self, connector_id, reservation_id, **_):
        reservation = self._reservation(reservation_id)
        if reservation is None or reservation.expiry is not None:
            return

        async def hold():
            if connector_id:
                await self.notify_status(connector_id, "Reserved")
            await asyncio.sleep(max((reservation.expires_at - self.clock.now()).total_seconds(), 0))
            reservation.expiry = None  # expired: ending it must not cancel this very task
            await self._release_reservation(reservation)

        reservation.expiry = self._spawn(hold(), f"reservation {reservation_id}")

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id, **_):
        found = self._reservation(reservation_id) is not None
        return call_result.CancelReservation(status="Accepted" if found else "Rejected")

    @after(Action.cancel_reservation)
    def after_cancel_reservation(self, reservation_id, **_):
        reservation = self._reservation(reservation_id)
        if reservation is not None:
            self._spawn(self._release_reservation(reservation), "cancel reservation")

    def _reservation(self, reservation_id: int):
        held = [c.reservation for c in self.connectors.values()] + [self.station_reservation]
        return next((r for r in held if r is not None and r.reservation_id == reservation_id), None)

    def reservation_end(self, reservation) -> None:
        """Forget a reservation (used, cancelled, replaced or expired) without reporting a status."""
        if reservation is None:
            return
        if reservation.expiry is not None:
            reservation.expiry.cancel()
        if self.station_reservation is reservation:
            self.station_reservation = None
        for connector in self.connectors.values():
            if connector.reservation is reservation:
                connector.reservation = None

    async def _release_reservation(self, reservation) -> None:
        self.reservation_end(reservation)
        connector = self.connectors.get(reservation.connector_id)
        if connector is not None and connector.session is None:
            await self.notify_status(reservation.connector_id, connector.idle_status)

    # --- Smart charging -------------------------------------------------------------------------------
    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id, cs_charging_profiles, **_):
        if connector_id != 0 and connector_id not in self.connectors:
            return call_result.SetChargingProfile(status="Rejected")
        session = self.connectors[connector_id].session if connector_id else None
        running = session is not None and session.transaction_id is not None
        wanted = cs_charging_profiles.get("transaction_id")
        if wanted is not None and (not running or wanted != session.transaction_id):
            return call_result.SetChargingProfile(status="Rejected")
        status = self.profiles.set(connector_id, cs_charging_profiles, has_transaction=running)
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id=None, connector_id=None, charging_profile_purpose=None,
                                  stack_level=None, **_):
        status = self.profiles.clear(id=id, connector_id=connector_id, purpose=charging_profile_purpose,
                                     stack_level=stack_level)
        return call_result.ClearChargingProfile(status=status)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id, duration, charging_rate_unit=None, **_):
        if connector_id == 0:
            specs = [c.spec for c in self.connectors.values()]
            spec = ConnectorSpec(0, specs[0].power_type, sum(s.max_power_w for s in specs))
            started = None
        elif connector_id in self.connectors:
            connector = self.connectors[connector_id]
            spec, session = connector.spec, connector.session
            started = session.started_at if session is not None and session.transaction_id is not None else None
        else:
            return call_result.GetCompositeSchedule(status="Rejected")
        now = self.clock.now().replace(microsecond=0)
        schedule = self.profiles.composite(spec, now=now, duration_s=duration, unit=charging_rate_unit,
                                           tx_started_at=started)
        return call_result.GetCompositeSchedule(status="Accepted", connector_id=connector_id,
                                                schedule_start=schedule["start_schedule"], charging_schedule=schedule)

    # --- Remote trigger -------------------------------------------------------------------------------
    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message, connector_id=None, **_):
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return call_result.TriggerMessage(status="Rejected")
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message, connector_id=None, **_):
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return
        self._spawn(self._send_triggered(requested_message, connector_id), f"trigger {requested_message}")

    async def _send_triggered(self, message: str, connector_id: int | None) -> None:
        chosen = [self.connectors[connector_id]] if connector_id else list(self.connectors.values())
        if message == "BootNotification":
            answer = await self.send(self._boot_payload(), before_boot=True)
            self.registration_status = answer.status if answer else self.registration_status
        elif message == "Heartbeat":
            await self.send(call.Heartbeat())
        elif message == "FirmwareStatusNotification":
            await self.send(call.FirmwareStatusNotification(status=self._current("firmware_status")))
        elif message == "DiagnosticsStatusNotification":
            await self.send(call.DiagnosticsStatusNotification(status=self._current("diagnostics_status")))
        elif message == "MeterValues":
            for connector in chosen:
                await self.send_meter_values(connector, "Trigger")
        elif message == "StatusNotification":
            if not connector_id:
                await self.notify_status(0, self.station_status)
            for connector in chosen:
                await self.notify_status(connector.spec.connector_id, connector.status)

    def _current(self, attribute: str) -> str:
        """Firmware and diagnostics status for a trigger: Idle once a process has finished (OCPP 1.6 4.5)."""
        status = getattr(self, attribute)
        return "Idle" if status in ("Installed", "Uploaded") else status

    def _session_of(self, transaction_id: int):
        return next((c.session for c in self.connectors.values()
                     if c.session is not None and c.session.transaction_id == transaction_id), None)
