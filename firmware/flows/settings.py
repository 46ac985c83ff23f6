"""Settings (设置): the screen language and the supervisor password, kept on flash (``prefs``).

``1`` language: ``1 English`` and ``2 中文``, each label in its own
language so that a reader of either finds it.  ``2`` supervisor password:
the old one (a wrong one counts toward the lock, as in a refund), the new
one (6 to 8 digits), the new one again; two that differ change nothing.
Each choice is saved at once and read back at boot.
"""
import flow
import steps
from screens import Choice, Entry
from sending import notice


def start(app):
    app.go(Choice(app, "settings", ((1, "language", lambda: _languages(app)),
                                    (2, "password_change", lambda: flow.start(app, "password_change", STEPS, None)))))


def _said(app, title_key, *keys):
    """A result in words (``keys``), as a send's outcome is shown."""
    app.go(notice(app, title_key, "", *[app.t(key) for key in keys]))


def _languages(app):
    def choose(language):
        app.config.language = language
        if not steps.save(app):  # the choice holds until power-off; say it was not kept
            _said(app, "settings", "not_saved", "flash_error")
            return
        app.home()
    app.go(Choice(app, "language", ((1, "english", lambda: choose("en")), (2, "chinese", lambda: choose("zh")))))


def _new(flow_):
    def done(value):
        flow_.draft = value  # the new password, only until it is typed again
        flow_.next()
    return Entry(flow_.app, flow_.title, "new_password", 8, done, style="secret", min_len=6)


def _again(flow_):
    app = flow_.app

    def done(value):
        if value != flow_.draft:
            flow_.draft = None
            _said(app, flow_.title, "passwords_differ", "not_changed")
            return None
        import pbkdf2
        app.config.supervisor_password = pbkdf2.make(value)
        flow_.draft = None
        if steps.save(app):
            _said(app, flow_.title, "password_changed")
        else:
            _said(app, flow_.title, "not_saved", "flash_error")
        return None
    return Entry(app, flow_.title, "password_again", 8, done, style="secret", min_len=6)


STEPS = (steps.password, _new, _again)
