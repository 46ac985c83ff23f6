"""The acquirer stays bounded whatever the traffic: idle connections close, a crowd cannot starve a new
client of file descriptors, and memory does not grow with the messages it has answered."""
from __future__ import annotations

import resource
import socket
import time
import tracemalloc

from micropos import iso8583
from micropos.acquirer.server import start_in_thread
from micropos.acquirer_cli import spawn

ECHO = iso8583.frame(iso8583.encode({"t": "0800", "3": "990000", "7": "1202093000", "11": "000001",
                                     "41": "TERM0001", "42": "MERCHANT0000001"}))


def _echo(sock: socket.socket) -> str:
    sock.sendall(ECHO)
    answer = iso8583.recv_frame(sock)
    assert answer is not None
    return iso8583.decode(answer)["39"]


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_an_idle_or_half_sent_connection_is_closed_after_the_timeout(tmp_path):
    with start_in_thread(tmp_path / "ledger.sqlite3", idle_timeout=0.5) as acquirer:
        idle = socket.create_connection(acquirer.address)
        half = socket.create_connection(acquirer.address)
        half.sendall(b"\x00\x40" + b"0800")  # announces 64 bytes, sends 4
        busy = socket.create_connection(acquirer.address)
        assert _echo(busy) == "00"
        assert _closed_within(idle, 5) and _closed_within(half, 5)
        for sock in (idle, half, busy):
            sock.close()


def test_a_crowd_of_idle_clients_under_a_small_file_limit_leaves_room_for_a_new_one(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 400:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))

    def small_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    errors = tmp_path / "acquirer.err"
    proc, port = spawn(tmp_path / "l.sqlite3", tmp_path / "acquirer.out", errors=errors, preexec_fn=small_limit)
    crowd: list[socket.socket] = []
    try:
        for _ in range(300):
            crowd.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as newcomer:
            assert _echo(newcomer) == "00"
        assert time.monotonic() - started < 5
    finally:
        for sock in crowd:
            sock.close()
        proc.terminate()
        proc.wait(timeout=10)
    err = errors.read_text()
    assert "Traceback" not in err and "Too many open files" not in err, err[-2000:]
    assert err.count("the limit") == 1, err


def test_memory_stays_flat_over_twenty_thousand_messages(tmp_path):
    with start_in_thread(tmp_path / "ledger.sqlite3") as acquirer, \
            socket.create_connection(acquirer.address) as sock:
        tracemalloc.start()
        try:
            for _ in range(2000):
                assert _echo(sock) == "00"
            early, _ = tracemalloc.get_traced_memory()
            for _ in range(18000):
                sock.sendall(ECHO)
                assert iso8583.recv_frame(sock) is not None
            late, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert late - early < 200_000, f"grew {late - early} bytes over 18,000 messages"
        assert len(acquirer.server.received) <= 1000
