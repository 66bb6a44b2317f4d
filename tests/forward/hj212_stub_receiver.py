"""A receiving platform that never acknowledges, or refuses, run as its own process.

``python hj212_stub_receiver.py MODE PORT LOG``: MODE ``silent`` reads frames and never
answers; MODE ``refuse`` answers each upload with a request reply 9011 ``QnRtn=3`` (wrong
password, HJ 212-2017 Table 7). Every received QN is appended to LOG. Prints ``ready``.
"""

from __future__ import annotations

import socket
import sys
import threading

from kilnwatch.ingest.hj212.codec import parse_raw_frame
from kilnwatch.ingest.hj212.encode import encode_reply
from kilnwatch.ingest.hj212.framing import FrameSplitter, Rejected


def serve(conn: socket.socket, mode: str, log_path: str) -> None:
    splitter = FrameSplitter()
    with conn, open(log_path, "a", encoding="utf-8") as log:
        while data := conn.recv(65536):
            for item in splitter.feed(data):
                if isinstance(item, Rejected):
                    continue
                packet = parse_raw_frame(item)
                log.write(f"{packet.qn}\n")
                log.flush()
                if mode == "refuse":
                    conn.sendall(encode_reply(packet, "9011", {"QnRtn": "3"}))


def main() -> None:
    mode, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    listener = socket.create_server(("127.0.0.1", port))
    print("ready", flush=True)  # noqa: T201
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, mode, log_path), daemon=True).start()


if __name__ == "__main__":
    main()
