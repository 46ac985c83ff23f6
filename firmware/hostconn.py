"""One request, one response, with the acquirer over TCP (2-byte length framing).

The outcome a transaction needs from the network is one of three, and they
differ in what the terminal must do next:
- cannot connect: nothing was sent, nothing to reverse;
- sent, but no (acceptable) response in time: a reversal is owed;
- a response frame: the caller checks and decodes it.
``exchange`` raises ConnectFailed or NoResponse for the first two.
"""
from micropython import const
import asyncio
import errno

MAX_MESSAGE = const(2048)

# A non-blocking connect reports its failure at the first write: these errors
# mean no connection was ever made, so nothing reached the host.
_NOT_CONNECTED = (errno.ECONNREFUSED, getattr(errno, "EHOSTUNREACH", -1), getattr(errno, "ENETUNREACH", -1))


class ConnectFailed(Exception):
    """Nothing was sent."""


class NoResponse(Exception):
    """The request went out; no valid response came back in time."""


class HostConnection:
    def __init__(self, config, longest=MAX_MESSAGE):
        """``longest``: the largest response worth reading; a longer frame is refused unread."""
        self.config = config
        self.rx = bytearray(longest)
        self._header = bytearray(2)

    async def exchange(self, request, length, on_stage=None):
        """Sends ``request[:length]``; returns the response length, read into ``self.rx``."""
        host, port = self.config.acquirer
        if on_stage:
            on_stage("connecting")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                    self.config.connect_timeout_s)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ConnectFailed(str(exc) or "timeout")
        try:
            if on_stage:
                on_stage("sending")
            header = self._header
            header[0] = length >> 8
            header[1] = length & 0xFF
            try:
                writer.write(header)
                writer.write(memoryview(request)[:length])
                await writer.drain()
            except OSError as exc:
                if exc.args and exc.args[0] in _NOT_CONNECTED:
                    raise ConnectFailed(str(exc))
                # Whether any byte reached the host is unknown: treat it as sent.
                raise NoResponse(str(exc))
            if on_stage:
                on_stage("receiving")
            try:
                return await asyncio.wait_for(self._read_frame(reader), self.config.response_timeout_s)
            except asyncio.TimeoutError:
                raise NoResponse("timeout")
            except (OSError, EOFError) as exc:
                raise NoResponse(str(exc) or "connection closed")
        finally:
            try:
                writer.close()
                await writer.wait_closed()
            except OSError:
                pass

    async def _read_frame(self, reader):
        header = await reader.readexactly(2)
        length = header[0] << 8 | header[1]
        if length == 0 or length > MAX_MESSAGE:
            raise NoResponse("bad frame length %d" % length)
        if length > len(self.rx):
            raise NoResponse("a %d-byte frame is longer than any message of the profile" % length)
        view = memoryview(self.rx)
        got = 0
        while got < length:
            chunk = await reader.read(length - got)
            if not chunk:
                raise EOFError("connection closed mid-message")
            view[got:got + len(chunk)] = chunk
            got += len(chunk)
        return length
