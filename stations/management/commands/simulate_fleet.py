"""`manage.py simulate_fleet`: simulated OCPP 1.6 stations that boot, charge and answer commands, so that
the system can be seen moving. The stations themselves live in stations/simulator/."""

import asyncio
import logging
import random
import signal
from contextlib import contextmanager, suppress

from django.core.management.base import BaseCommand, CommandError

from stations import demo
from stations.simulator import Clock, TokenPool, fleet


class Command(BaseCommand):
    help = (
        "Run N simulated OCPP 1.6 charging stations against an evbackoffice server: they connect, boot, charge "
        "with realistic meter values and answer every Central System command. By default the first N "
        "Accepted OCPP 1.6 demo stations (seed_demo) and the database's valid tokens are used. Stop with "
        "Ctrl-C or --duration; running sessions are stopped first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stations", type=int, default=5, help="How many stations (default 5).")
        parser.add_argument("--url", default="ws://127.0.0.1:8000/ocpp/",
                            help="The server's OCPP endpoint; the identity is appended.")
        parser.add_argument("--identities", default="", help="Comma-separated identities instead of demo ones.")
        parser.add_argument("--password", default=demo.DEMO_STATION_PASSWORD,
                            help="Basic-auth password of every station (default: the demo stations' one).")
        parser.add_argument("--duration", type=float, default=None, help="Stop after this many seconds.")
        parser.add_argument("--speed", type=float, default=1.0,
                            help="Time compression: 60 makes a minute of charging pass in a second.")
        parser.add_argument("--meter-interval", type=int, default=60,
                            help="MeterValueSampleInterval in station seconds (default 60).")
        parser.add_argument("--unknown-share", type=float, default=0.1,
                            help="Share of drivers presenting a card nobody knows (refused; default 0.1).")
        parser.add_argument("--seed", type=int, default=None, help="Make the drivers' behaviour repeatable.")
        parser.add_argument("--frames", action="store_true", help="Log every OCPP frame.")

    def handle(self, *args, **options):
        if options["speed"] <= 0:
            raise CommandError("--speed must be positive.")
        identities = [i.strip() for i in options["identities"].split(",") if i.strip()]
        profiles = fleet.profiles_for(identities) if identities else fleet.demo_profiles(count=options["stations"])
        if not profiles:
            raise CommandError("No Accepted OCPP 1.6 demo stations in the database: run `manage.py seed_demo` "
                               "first, or name stations with --identities.")
        if not identities and len(profiles) < options["stations"]:
            self.stderr.write(f"Only {len(profiles)} demo stations qualify; simulating those.")
        tags = fleet.valid_id_tags()
        if not tags:
            self.stderr.write("No valid tokens in the database: every driver will be refused.")
        rng = random.Random(options["seed"])
        stations = fleet.build(
            profiles, url=options["url"], password=options["password"] or None, clock=Clock(options["speed"]),
            tokens=TokenPool(tags, unknown_share=options["unknown_share"], rng=rng),
            meter_interval_s=options["meter_interval"], seed=options["seed"],
        )
        self.stdout.write(f"Simulating {', '.join(s.id for s in stations)} against {options['url']} "
                          f"at {options['speed']:g}x with {len(tags)} valid tokens. Ctrl-C stops.")
        with self._log_to_stdout(frames=options["frames"]):
            try:
                asyncio.run(self._run(stations, duration_s=options["duration"]))
            except (KeyboardInterrupt, asyncio.CancelledError):
                pass
        self.stdout.write(self.style.SUCCESS(f"Stopped. {fleet.summary(stations)}."))

    @staticmethod
    async def _run(stations, *, duration_s):
        """SIGTERM (docker stop, systemd) stops as cleanly as Ctrl-C: sessions are stopped first. Another
        TERM during that (some tools signal the process and its group) must not cut the stops short."""
        loop, main = asyncio.get_running_loop(), asyncio.current_task()

        def stop():
            loop.add_signal_handler(signal.SIGTERM, lambda: None)
            main.cancel()

        with suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGTERM, stop)
        await fleet.run(stations, duration_s=duration_s)

    @contextmanager
    def _log_to_stdout(self, *, frames: bool):
        """The simulator's one line per session on stdout; frames only when asked (the library logs each)."""
        simulator, frame_log = logging.getLogger("stations.simulator"), logging.getLogger("stations.simulator.frames")
        saved = simulator.level, simulator.propagate, frame_log.level
        handler = logging.StreamHandler(self.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        simulator.addHandler(handler)
        simulator.setLevel(logging.INFO)
        simulator.propagate = False
        frame_log.setLevel(logging.INFO if frames else logging.WARNING)
        try:
            yield
        finally:
            simulator.removeHandler(handler)
            simulator.level, simulator.propagate = saved[0], saved[1]
            frame_log.setLevel(saved[2])
