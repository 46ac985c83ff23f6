"""A magnetic-stripe reader on a UART: each swipe arrives as one line of track 2, ``;PAN=YYMM...?``.

Only PAN and expiry go further (card.parse_track2 reads past the rest); a
line that is not a readable track 2 is reported as unreadable, so the
screen can ask for another swipe instead of staying silent.
"""
import asyncio

import card


class CardReader:
    def __init__(self, uart, app):
        self.uart = uart
        self.app = app

    def feed(self, line):
        """One line from the reader."""
        parsed = card.parse_track2(line)
        if parsed is None:
            self.app.handle_card(None, None)
        else:
            self.app.handle_card(parsed[0], parsed[1])

    async def run(self):
        reader = asyncio.StreamReader(self.uart)
        while True:
            line = await reader.readline()
            if line.strip():
                self.feed(line)
