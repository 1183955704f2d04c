"""The ceiling for benchmarks/ocpp_load.py: a bare `websockets` server that speaks just enough OCPP-J.

It negotiates `ocpp1.6`, parses each frame (json.loads, as any OCPP server must) and answers every CALL
with a fixed CALLRESULT for its action; no authentication, no validation, no database, no channel layer.
Whatever the real server does per message on top of this is the gap the load benchmark reports.

    python benchmarks/echo_server.py --host 127.0.0.1 --port 9001

Runs on uvloop when it is installed (uvicorn, which serves the real application, does the same).
"""

import argparse
import asyncio
import json
import resource
import signal

from websockets.asyncio.server import serve

NOW = "2025-01-01T00:00:00.000Z"
# One fixed payload per action (serialised once); anything else gets {}.
ANSWERS = {
    "BootNotification": json.dumps({"currentTime": NOW, "interval": 300, "status": "Accepted"}),
    "Heartbeat": json.dumps({"currentTime": NOW}),
    "Authorize": json.dumps({"idTagInfo": {"status": "Accepted"}}),
    "StartTransaction": json.dumps({"transactionId": 1, "idTagInfo": {"status": "Accepted"}}),
}


async def station(websocket) -> None:
    async for frame in websocket:
        try:
            message = json.loads(frame)
        except ValueError:
            continue
        if isinstance(message, list) and len(message) >= 3 and message[0] == 2:
            await websocket.send(f'[3,"{message[1]}",{ANSWERS.get(message[2], "{}")}]')


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(station, host, port, subprotocols=["ocpp1.6"], compression=None, ping_interval=30,
                     ping_timeout=30, backlog=4096):
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.host, args.port))
    else:
        uvloop.run(main(args.host, args.port))
