"""One request, one response, with the acquirer over TCP (2-byte length framing).

The outcome a transaction needs from the network is one of three, and they
differ in what the terminal must do next:
- cannot connect: nothing was sent, nothing to reverse;
- sent, but no (acceptable) response in time: a reversal is owed;
- a response frame: the caller checks and decodes it.
``exchange`` raises ConnectFailed or NoResponse for the first two.

A non-blocking socket, polled every few milliseconds against a deadline,
rather than asyncio streams and ``wait_for``: the message is small, and
the streams, the timeout tasks and their module would take 3 KB of heap
at the moment it is fullest.
"""
from micropython import const
import asyncio
import errno
import select
import socket
import time

MAX_MESSAGE = const(2048)
_POLL_MS = const(10)



class ConnectFailed(Exception):
    """Nothing was sent."""


class NoResponse(Exception):
    """The request went out; no valid response came back in time."""


def _deadline(seconds):
    return time.ticks_add(time.ticks_ms(), seconds * 1000)


async def _ready(poller, deadline):
    """The socket's poll events once it is ready, or 0 when ``deadline`` passes first."""
    while True:
        for _, events in poller.ipoll(0):
            return events
        if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
            return 0
        await asyncio.sleep_ms(_POLL_MS)


class HostConnection:
    def __init__(self, config, longest=MAX_MESSAGE, rx=None):
        """``longest``: the largest response worth reading; a longer frame is refused unread.

        ``rx``: a buffer of that size to read the response into, instead of a
        new one (it may be the request's: the request is sent before a byte of
        the response is read).
        """
        self.config = config
        self.rx = rx if rx is not None else bytearray(longest)
        self._header = bytearray(2)

    async def exchange(self, request, length, on_stage=None):
        """Sends ``request[:length]``; returns the response length, read into ``self.rx``."""
        config = self.config
        if on_stage:
            on_stage("connecting")
        sock = socket.socket()
        try:
            poller = select.poll()
            poller.register(sock, select.POLLOUT)
            await self._connect(sock, poller, _deadline(config.connect_timeout_s))
            if on_stage:
                on_stage("sending")
            header = self._header
            header[0] = length >> 8
            header[1] = length & 0xFF
            deadline = _deadline(config.response_timeout_s)
            try:
                await self._write(sock, poller, header, 2, deadline)
                await self._write(sock, poller, request, length, deadline)
            except OSError as exc:
                # these mean no connection was ever made, so nothing reached the host
                if exc.args and exc.args[0] in (errno.ECONNREFUSED, getattr(errno, "EHOSTUNREACH", -1),
                                                getattr(errno, "ENETUNREACH", -1)):
                    raise ConnectFailed(str(exc))
                # Whether any byte reached the host is unknown: treat it as sent.
                raise NoResponse(str(exc))
            if on_stage:
                on_stage("receiving")
            poller.modify(sock, select.POLLIN)
            try:
                await self._read(sock, poller, header, 2, deadline)
                got = header[0] << 8 | header[1]
                if got == 0 or got > MAX_MESSAGE:
                    raise NoResponse("bad frame length %d" % got)
                if got > len(self.rx):
                    raise NoResponse("a %d-byte frame is longer than any message of the profile" % got)
                await self._read(sock, poller, self.rx, got, deadline)
            except OSError as exc:
                raise NoResponse(str(exc))
            return got
        finally:
            sock.close()

    async def _connect(self, sock, poller, deadline):
        host, port = self.config.acquirer
        try:
            address = socket.getaddrinfo(host, port)[0][-1]
            sock.setblocking(False)
            try:
                sock.connect(address)
            except OSError as exc:
                if exc.args[0] != errno.EINPROGRESS:
                    raise
        except OSError as exc:
            raise ConnectFailed(str(exc))
        events = await _ready(poller, deadline)
        if not events:
            raise ConnectFailed("timeout")
        if events & (select.POLLERR | select.POLLHUP):
            raise ConnectFailed("refused")

    async def _write(self, sock, poller, data, length, deadline):
        view = memoryview(data)
        sent = 0
        while sent < length:
            n = sock.write(view[sent:length])
            if n:
                sent += n
            elif not await _ready(poller, deadline):
                raise NoResponse("timeout")

    async def _read(self, sock, poller, buf, length, deadline):
        """Fills ``buf[:length]`` from the socket before ``deadline``."""
        view = memoryview(buf)
        got = 0
        while got < length:
            n = sock.readinto(view[got:length])
            if n is None:  # nothing yet
                if not await _ready(poller, deadline):
                    raise NoResponse("timeout")
            elif n == 0:
                raise NoResponse("connection closed mid-message" if got else "connection closed")
            else:
                got += n
