"""Settings (设置): the screen language, kept on flash (``prefs``).

``1`` language: ``1 English`` and ``2 中文``, each label in its own
language so that a reader of either finds it.  The choice is saved at once
and read back at boot.
"""
import prefs
from screens import Choice, Notice


def start(app):
    app.go(Choice(app, "settings", ((1, "language", lambda: _languages(app)),)))


def _languages(app):
    def choose(language):
        app.config.language = language
        try:
            prefs.save(app.config, app.board.SETTINGS_FILE)
        except OSError:  # the choice holds until power-off; say it was not kept
            app.go(Notice(app, (app.t("settings"), "", app.t("not_saved"), app.t("flash_error"), "", "", "",
                                app.t("any_key"))))
            return
        app.home()
    app.go(Choice(app, "language", ((1, "english", lambda: choose("en")), (2, "chinese", lambda: choose("zh")))))
