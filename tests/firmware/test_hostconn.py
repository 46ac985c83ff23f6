"""The TCP exchange against small servers on loopback, all on the unix port."""
import asyncio
from hostconn import HostConnection, ConnectFailed, NoResponse


class Cfg:
    acquirer = ("127.0.0.1", 0)
    connect_timeout_s = 2
    response_timeout_s = 1


def _serve(handler, longest=2048):
    async def main():
        server = await asyncio.start_server(handler, "127.0.0.1", 18583)
        cfg = Cfg()
        cfg.acquirer = ("127.0.0.1", 18583)
        conn = HostConnection(cfg, longest)
        stages = []
        try:
            n = await conn.exchange(b"HELLO-xx", 5, stages.append)
            return ("ok", bytes(conn.rx[:n]), stages)
        except (ConnectFailed, NoResponse) as exc:
            return (type(exc).__name__, str(exc), stages)
        finally:
            server.close()
            await server.wait_closed()
    return asyncio.run(main())


def test_a_framed_answer_comes_back_whole():
    async def echo(reader, writer):
        head = await reader.readexactly(2)
        body = await reader.readexactly(head[0] << 8 | head[1])
        writer.write(b"\x00\x07" + b"RE:" + body[:4])
        await writer.drain()
        writer.close()
    result = _serve(echo)
    assert result == ("ok", b"RE:HELL", ["connecting", "sending", "receiving"]), result


def test_silence_is_no_response_after_the_timeout():
    async def mute(reader, writer):
        await asyncio.sleep(3)
        writer.close()
    kind, _, stages = _serve(mute)
    assert kind == "NoResponse" and stages[-1] == "receiving"


def test_a_closed_connection_is_no_response():
    async def hang_up(reader, writer):
        await reader.readexactly(7)
        writer.close()
    kind, _, _ = _serve(hang_up)
    assert kind == "NoResponse"


def test_a_bad_frame_length_is_no_response():
    async def garbage(reader, writer):
        await reader.readexactly(7)
        writer.write(b"\xff\xff garbage")
        await writer.drain()
        writer.close()
    kind, detail, _ = _serve(garbage)
    assert kind == "NoResponse" and "bad frame length 65535" in detail


def test_a_frame_longer_than_any_message_of_the_profile_is_refused_unread():
    async def long_answer(reader, writer):
        await reader.readexactly(7)
        writer.write(b"\x01\x00" + b"x" * 256)
        await writer.drain()
        writer.close()
    kind, detail, _ = _serve(long_answer, longest=255)
    assert kind == "NoResponse" and "256-byte frame is longer than any message" in detail, detail
    assert _serve(long_answer, longest=256)[0] == "ok"


def test_nobody_listening_is_connect_failed_and_nothing_sent():
    async def main():
        cfg = Cfg()
        cfg.acquirer = ("127.0.0.1", 1)
        try:
            await HostConnection(cfg).exchange(b"x", 1)
        except ConnectFailed:
            return "refused"
    assert asyncio.run(main()) == "refused"
