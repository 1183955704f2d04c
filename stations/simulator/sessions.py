"""The charging side of a simulated station: a driver claims a free connector, is authorised, charges with
periodic meter values and stops; drivers arrive on their own in a station that `run()`s.

Mixed into SimulatedStation (station.py), which provides `send`, `notify_status` and the connection.
"""

import asyncio
import logging

from ocpp.v16 import call

from stations.simulator.charging import Reading, SessionPlan, advance, charging_power_w, sampled_values
from stations.simulator.clock import iso
from stations.simulator.state import ConnectorState, Session

logger = logging.getLogger("stations.simulator")


class Sessions:
    """Charging sessions of a SimulatedStation."""

    def reading(self, connector: ConnectorState) -> Reading:
        """What the connector's meter shows now."""
        session = connector.session
        vehicle = session.plan.vehicle if session and session.transaction_id is not None else None
        power = self._power_w(connector) if vehicle and connector.status == "Charging" else 0.0
        return Reading.measure(connector.spec, int(connector.meter_wh), self.rng, power_w=power,
                               offered_w=self._offered_w(connector), vehicle=vehicle)

    async def send_meter_values(self, connector: ConnectorState, context: str) -> None:
        values = sampled_values(self.reading(connector), self.config.list("MeterValuesSampledData"), context)
        session = connector.session
        await self.send(call.MeterValues(
            connector_id=connector.spec.connector_id,
            meter_value=[{"timestamp": iso(self.clock.now()), "sampled_value": values}],
            transaction_id=session.transaction_id if session else None))

    def claim(self, connector_id: int, id_tag: str, *, plan: SessionPlan | None = None, remote: bool = False,
              from_pool: bool = False) -> Session:
        """Take a free connector for a driver (synchronously, so two starts cannot take the same one)."""
        connector = self.connectors[connector_id]
        if not connector.free_for(id_tag):
            raise ValueError(f"{self.id} connector {connector_id} is not free")
        connector.session = Session(connector_id, id_tag, plan or self.plans(connector.spec, self.rng),
                                    remote=remote, from_pool=from_pool)
        return connector.session

    async def charge(self, connector_id: int, id_tag: str, *, plan: SessionPlan | None = None,
                     remote: bool = False) -> Session:
        """A whole session on one connector; returns it when the connector is Available again."""
        return await self.run_session(self.claim(connector_id, id_tag, plan=plan, remote=remote))

    async def run_session(self, session: Session) -> Session:
        session.task = asyncio.current_task()
        connector = self.connectors[session.connector_id]
        try:
            await self.notify_status(session.connector_id, "Preparing")
            session.authorization = await self._authorize(session)
            if session.authorization != "Accepted":
                self.stats["refused"] += 1
                logger.info("%s #%d refused %s (%s)", self.id, session.connector_id, session.id_tag,
                            session.authorization)
            elif session.stop_reason is None:
                await self._start_transaction(session)
            if session.transaction_id is not None:
                await self._deliver_energy(session)
                await self._stop_transaction(session)
                await self.notify_status(session.connector_id, "Finishing")
                if not session.hurry:
                    await self.clock.sleep(session.plan.unplug_s)
            self._apply_pending_availability(connector)
            await self.notify_status(session.connector_id, connector.idle_status)
        finally:
            connector.session = None
            self.profiles.transaction_ended(session.connector_id)
            if session.from_pool and self.tokens is not None:
                self.tokens.release(session.id_tag)
            self.sessions.append(session)
        return session

    async def _authorize(self, session: Session) -> str:
        if session.remote and not self.config.bool("AuthorizeRemoteTxRequests"):
            return "Accepted"
        known = self.local_list.get(session.id_tag, {}).get("status")
        if self.config.bool("LocalPreAuthorize") and "Accepted" in (known, self.auth_cache.get(session.id_tag)):
            return "Accepted"
        answer = await self.send(call.Authorize(id_tag=session.id_tag))
        if answer is None:
            return "Accepted" if known == "Accepted" and self.config.bool("LocalAuthorizeOffline") else "Invalid"
        status = answer.id_tag_info["status"]
        if self.config.bool("AuthorizationCacheEnabled"):
            self.auth_cache[session.id_tag] = status
        return status

    async def _start_transaction(self, session: Session) -> None:
        connector = self.connectors[session.connector_id]
        reservation = connector.reservation
        if reservation is not None and reservation.id_tag == session.id_tag:
            session.reservation_id = reservation.reservation_id
            self.reservation_end(reservation)
        session.meter_start_wh, session.started_at = int(connector.meter_wh), self.clock.now()
        answer = await self.send(call.StartTransaction(
            connector_id=session.connector_id, id_tag=session.id_tag, meter_start=session.meter_start_wh,
            timestamp=iso(session.started_at), reservation_id=session.reservation_id))
        if answer is None:
            return
        session.transaction_id = answer.transaction_id
        session.authorization = answer.id_tag_info["status"]
        if session.charging_profile is not None:
            self.profiles.set(session.connector_id, session.charging_profile, has_transaction=True)
        if session.authorization != "Accepted" and self.config.bool("StopTransactionOnInvalidId"):
            session.request_stop("DeAuthorized")
            return
        self.stats["started"] += 1
        logger.info("%s #%d started tx %s for %s (%s)", self.id, session.connector_id, session.transaction_id,
                    session.id_tag, connector.spec.label)

    def _power_w(self, connector: ConnectorState) -> float:
        session = connector.session
        return charging_power_w(connector.spec, session.plan.vehicle, self._limit_w(connector))

    def _limit_w(self, connector: ConnectorState) -> float | None:
        session = connector.session
        started = session.started_at if session and session.transaction_id is not None else None
        return self.profiles.limit_w(connector.spec, self.clock.now(), started)

    def _offered_w(self, connector: ConnectorState) -> float:
        limit = self._limit_w(connector)
        return connector.spec.max_power_w if limit is None else min(limit, connector.spec.max_power_w)

    async def _deliver_energy(self, session: Session) -> None:
        """Charging with a MeterValues every MeterValueSampleInterval, until the driver or the CSMS ends it."""
        if session.stop_reason is None:
            await self.notify_status(session.connector_id, "Charging")
        connector, plan = self.connectors[session.connector_id], session.plan
        loop, plugged_s = asyncio.get_running_loop(), 0.0
        while session.stop_reason is None:
            interval_s = self.config.int("MeterValueSampleInterval") or plan.dwell_s
            wait_s, power_w = min(interval_s, max(plan.dwell_s - plugged_s, 0)), self._power_w(connector)
            began = loop.time()
            try:
                await asyncio.wait_for(session.stop_requested.wait(), self.clock.real_s(wait_s))
            except TimeoutError:
                pass
            step_s = min((loop.time() - began) * self.clock.speed, wait_s)
            plugged_s += step_s
            connector.meter_wh += advance(plan.vehicle, power_w, step_s)
            full = plan.vehicle.soc >= plan.target_soc
            if session.stop_reason is None and (plugged_s >= plan.dwell_s or (full and connector.spec.is_dc)):
                session.request_stop(plan.stop_reason)
            if session.stop_reason is not None:
                break
            if full and connector.status == "Charging":
                await self.notify_status(session.connector_id, "SuspendedEV")  # the car waits to be unplugged
            if self.config.int("MeterValueSampleInterval"):
                await self.send_meter_values(connector, "Sample.Periodic")

    async def _stop_transaction(self, session: Session) -> None:
        connector = self.connectors[session.connector_id]
        session.stop_reason = session.stop_reason or "Local"
        session.meter_stop_wh, session.stopped_at = int(connector.meter_wh), self.clock.now()
        measurands = self.config.list("StopTxnSampledData")
        begin = Reading(connector.spec, session.meter_start_wh)
        end = Reading(connector.spec, session.meter_stop_wh, soc=session.plan.vehicle.soc if connector.spec.is_dc
                      else None)
        data = [{"timestamp": iso(moment), "sampled_value": sampled_values(reading, measurands, context)}
                for moment, reading, context in ((session.started_at, begin, "Transaction.Begin"),
                                                 (session.stopped_at, end, "Transaction.End"))]
        await self.send(call.StopTransaction(
            meter_stop=session.meter_stop_wh, timestamp=iso(session.stopped_at),
            transaction_id=session.transaction_id, reason=session.stop_reason,
            id_tag=session.id_tag if session.stop_reason in ("Local", "DeAuthorized") else None,
            transaction_data=[entry for entry in data if entry["sampled_value"]] or None))
        self.stats["stopped"] += 1
        self.stats["energy_wh"] += session.energy_wh
        minutes = (session.stopped_at - session.started_at).total_seconds() * self.clock.speed / 60
        logger.info("%s #%d stopped tx %s (%s): %.2f kWh in %.0f min", self.id, session.connector_id,
                    session.transaction_id, session.stop_reason, session.energy_wh / 1000, minutes)

    def _apply_pending_availability(self, connector: ConnectorState) -> None:
        if connector.pending_operative is not None:
            connector.operative, connector.pending_operative = connector.pending_operative, None

    async def end_sessions(self, reason: str, *, timeout_s: float = 10) -> None:
        """Stop every session at once (reset, shutdown) and wait until their stops are sent."""
        sessions = [c.session for c in self.connectors.values() if c.session is not None]
        for session in sessions:
            session.request_stop(reason, hurry=True)
        tasks = [s.task for s in sessions if s.task is not None and s.task is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)

    async def _arrivals(self) -> None:
        """Drivers arrive now and then, take a free connector and present a card."""
        await self.clock.sleep(self.rng.uniform(0, 60))
        while True:
            await self._booted.wait()
            free = [c for c in self.connectors.values() if c.free_for(None)]
            id_tag = self.tokens.acquire() if free else None
            if id_tag is not None:
                connector = self.rng.choice(free)
                session = self.claim(connector.spec.connector_id, id_tag, from_pool=id_tag in self.tokens.in_use)
                self._spawn(self.run_session(session), f"session {connector.spec.connector_id}")
            await self.clock.sleep(self.rng.uniform(2, 15) * 60)
