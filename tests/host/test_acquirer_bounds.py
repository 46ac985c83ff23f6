"""The acquirer stays bounded whatever the traffic: idle connections close, a crowd cannot starve a new
client of file descriptors, and memory does not grow with the messages it has answered."""
from __future__ import annotations

import resource
import socket
import threading
import time
import tracemalloc

from micropos import iso8583, loadgen
from micropos.acquirer import server
from micropos.acquirer.ledger import Ledger
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


def _echo_with_stan(stan: int) -> bytes:
    return iso8583.frame(iso8583.encode({"t": "0800", "3": "990000", "7": "1202093000", "11": f"{stan:06d}",
                                         "41": "TERM0001", "42": "MERCHANT0000001"}))


def test_requests_sent_back_to_back_or_split_anywhere_are_answered_in_the_order_asked(tmp_path):
    with start_in_thread(tmp_path / "ledger.sqlite3") as acquirer, \
            socket.create_connection(acquirer.address, timeout=10) as sock:
        sock.sendall(b"".join(_echo_with_stan(n) for n in range(1, 11)))  # ten in one write
        stream = b"".join(_echo_with_stan(n) for n in range(11, 14))
        for byte in stream:  # three more a byte at a time: frames cut at every place
            sock.sendall(bytes([byte]))
        answers = [iso8583.recv_frame(sock) for _ in range(13)]
        assert [iso8583.decode(a or b"")["11"] for a in answers] == [f"{n:06d}" for n in range(1, 14)]


def test_a_client_that_sends_without_reading_is_slowed_down_and_loses_no_answer(tmp_path):
    count = 20000
    with start_in_thread(tmp_path / "ledger.sqlite3") as acquirer, socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # answers back up at once
        sock.settimeout(20)
        sock.connect(acquirer.address)
        flood = b"".join(_echo_with_stan(n) for n in range(1, count + 1))
        sender = threading.Thread(target=sock.sendall, args=(flood,))
        sender.start()
        time.sleep(0.5)  # the server stops reading: it holds its bound and one read (asyncio reads 256 KiB)
        held = [len(c._buffer) for c in acquirer.server._connections]
        assert max(held) <= server._BUFFERED + 256 * 1024, held
        stans = [iso8583.decode(iso8583.recv_frame(sock) or b"")["11"] for _ in range(count)]
        sender.join(10)
        assert stans == [f"{n:06d}" for n in range(1, count + 1)]


def test_the_ledger_is_checkpointed_once_its_commits_pause(tmp_path):
    db = tmp_path / "ledger.sqlite3"
    with start_in_thread(db) as acquirer, socket.create_connection(acquirer.address) as sock:
        for stan in range(1, 300):
            sock.sendall(_echo_with_stan(stan))
            assert iso8583.recv_frame(sock) is not None
        with Ledger(db) as ledger:  # an echo writes nothing: some refunds' worth of pages for the log
            ledger.seed_rows(loadgen.originals(300, loadgen.yesterday()))
        before = db.stat().st_size
        deadline = time.monotonic() + 5
        while db.stat().st_size == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db.stat().st_size > before, "the log was not copied into the database"
