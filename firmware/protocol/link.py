"""One request to the acquirer and its verified response.

The codec, CMAC and the connection are loaded for one message and dropped
right after it (``app/lifetime.py`` unloads this module and the ones it
imports), so they never share the heap with the journal, DUKPT or the receipt.

``send`` answers with plain values, not objects of these modules, so nothing
the caller keeps holds this code in RAM.
"""
import cmac
import hostconn
import iso8583
import messages


class Rejected(Exception):
    """A response that does not answer the request or whose MAC fails: treated as none."""


async def _exchange(config, network_up, job, key, on_stage):
    """Sends ``job`` (its KSN already set) MACed with ``key``; returns the verified response."""
    if network_up is not None and not await network_up(config):
        raise hostconn.ConnectFailed("no network")
    tx = bytearray(iso8583.LONGEST)  # the profile's longest message, not the 2 KB the framing allows
    conn = hostconn.HostConnection(config, iso8583.LONGEST, tx)  # the response lands there too
    request = iso8583.Message()
    messages.fill(request, job, config)
    mac = cmac.Cmac(key) if key else None  # an echo test (no key) is not MACed, nor is its answer
    length = request.encode(tx, 0, mac)
    sent = messages.echoed(request)
    got = await conn.exchange(tx, length, on_stage)
    response = request  # the answer goes into the request's own buffers: one message in the heap, not two
    try:
        response.decode(tx, got)
        span, mac_at = iso8583.mac_span(tx, got) if mac is not None else (0, 0)
    except iso8583.DecodeError as exc:
        raise Rejected(str(exc))
    if not messages.answers(sent, response) or not response.has(39):
        raise Rejected("not the answer to the request, or no DE 39")
    if mac is not None and not mac.verify8(span, memoryview(tx)[mac_at:mac_at + iso8583.MAC_LENGTH]):
        raise Rejected("response MAC does not verify")
    return response


async def send(config, network_up, job, key, on_stage):
    """Sends ``job`` MACed with ``key``: (failure, response code, RRN, approval code, DE 54).

    An echo test goes with no ``key``, unMACed; the last of its answer is
    DE 7, the acquirer's time, in place of DE 54.

    ``network_up``: the board's coroutine that brings its network up (None
    when it has none to bring up); ``on_stage(name)`` is told "connecting",
    "sending" and "receiving" as they begin.

    ``failure`` is None when a verified response came back, else the words
    key of what went wrong: "no_connect" (nothing was sent), "host_timeout"
    (no response in time: a reversal is owed) or "bad_response" (a response
    the terminal rejects: a reversal is owed too).
    """
    try:
        response = await _exchange(config, network_up, job, key, on_stage)
    except hostconn.ConnectFailed:
        return "no_connect", "", "", "", ""
    except hostconn.NoResponse:
        return "host_timeout", "", "", "", ""
    except Rejected:
        return "bad_response", "", "", "", ""
    return (None, response.get_str(39) or "", response.get_str(37) or "", (response.get_str(38) or "").strip(),
            response.get_str(54 if key else 7) or "")
