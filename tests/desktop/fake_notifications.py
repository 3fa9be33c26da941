"""A stand-in for the desktop's notification service on a private session bus.

    python -m tests.desktop.fake_notifications OUTPUT.jsonl

Owns org.freedesktop.Notifications, answers Notify (and what notify-send asks
first), and appends one JSON line per notification to OUTPUT. It prints
"ready" once it owns the name. Built on jeepney (a keyring dependency).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"


def main() -> None:
    out = Path(sys.argv[1])
    conn = open_dbus_connection(bus="SESSION")
    reply = conn.send_and_get_reply(message_bus.RequestName(NAME, 4))  # DO_NOT_QUEUE
    if reply.body[0] != 1:
        raise SystemExit(f"could not own {NAME}")
    print("ready", flush=True)
    next_id = 1
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        if member == "Notify":
            app, _replaces, _icon, summary, body, *_rest = msg.body
            with out.open("a") as f:
                f.write(json.dumps({"app": app, "summary": summary, "body": body}) + "\n")
            conn.send(new_method_return(msg, "u", (next_id,)))
            next_id += 1
        elif member == "GetServerInformation":
            conn.send(new_method_return(msg, "ssss", ("fake", "tests", "1", "1.2")))
        elif member == "GetCapabilities":
            conn.send(new_method_return(msg, "as", (["body"],)))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main()
