"""The screen while a message is on the wire: connecting, sending, receiving, with the seconds left."""
import time

from screens import Screen


class Progress(Screen):
    """Keys pressed meanwhile wait in the queue (``busy``); only the send may end this screen."""

    times_out = False
    busy = True

    def __init__(self, app, title_key):
        super().__init__(app)
        self.title = title_key
        self.stage = "connecting"
        self._deadline = time.ticks_add(time.ticks_ms(), app.config.connect_timeout_s * 1000)

    def set_stage(self, stage):
        self.stage = stage
        if stage != "sending":
            config = self.app.config
            seconds = config.response_timeout_s if stage == "receiving" else config.connect_timeout_s
            self._deadline = time.ticks_add(time.ticks_ms(), seconds * 1000)
        self.app.render()

    def rows(self):
        left = time.ticks_diff(self._deadline, time.ticks_ms())
        left = (left + 999) // 1000 if left > 0 else 0
        return (self.t(self.title), "", self.t(self.stage) + "...", "", self.t("wait_s") % left)

    def on_key(self, key):
        pass
