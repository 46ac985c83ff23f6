"""One request to the acquirer and its verified response.

The codec, CMAC and the connection are loaded for one message and dropped
right after it (``exchange`` unloads this module and the ones it imports),
so they never share the heap with the journal, DUKPT or the receipt.

``send`` answers with plain values, not objects of these modules, so nothing
the caller keeps holds this code in RAM.
"""
import cmac
import hostconn
import iso8583
import wire


class Rejected(Exception):
    """A response that does not answer the request or whose MAC fails: treated as none."""


class Link:
    """Codec buffers and the connection, made for one message."""

    def __init__(self, app, progress):
        self.config = app.config
        self.progress = progress
        self.tx = bytearray(iso8583.LONGEST)  # the profile's longest message, not the 2 KB the framing allows
        self.conn = hostconn.HostConnection(self.config, iso8583.LONGEST, self.tx)  # the response lands there too
        self.request = iso8583.Message()
        self.response = iso8583.Message()
        self.network_up = getattr(app.board, "network_up", None)  # a board with WiFi brings it up first

    async def exchange(self, job, key):
        """Sends ``job`` (its KSN already set) MACed with ``key``; returns the verified response."""
        if self.network_up is not None and not await self.network_up(self.config):
            raise hostconn.ConnectFailed("no network")
        wire.fill(self.request, job, self.config)
        mac = cmac.Cmac(key)
        length = self.request.encode(self.tx, 0, mac)
        got = await self.conn.exchange(self.tx, length, self.progress.set_stage)
        rx = self.conn.rx
        try:
            self.response.decode(rx, got)
            span, mac_at = iso8583.mac_span(rx, got)
        except iso8583.DecodeError as exc:
            raise Rejected(str(exc))
        if not wire.answers(self.request, self.response):
            raise Rejected("not the answer to the request")
        if not mac.verify8(span, memoryview(rx)[mac_at:mac_at + iso8583.MAC_LENGTH]):
            raise Rejected("response MAC does not verify")
        return self.response


async def send(app, job, key, progress):
    """Sends ``job`` MACed with ``key``: (failure, response code, RRN, approval code).

    ``failure`` is None when a verified response came back, else the words
    key of what went wrong: "no_connect" (nothing was sent), "host_timeout"
    (no response in time: a reversal is owed) or "bad_response" (a response
    the terminal rejects: a reversal is owed too).
    """
    try:
        response = await Link(app, progress).exchange(job, key)
    except hostconn.ConnectFailed:
        return "no_connect", "", "", ""
    except hostconn.NoResponse:
        return "host_timeout", "", "", ""
    except Rejected:
        return "bad_response", "", "", ""
    return None, response.get_str(39) or "", response.get_str(37) or "", (response.get_str(38) or "").strip()
