"""Settings (设置): the screen language."""
from screens import Choice


def start(app):
    def choose(language):
        app.config.language = language
        app.home()
    app.go(Choice(app, "settings", ((1, "english", lambda: choose("en")), (2, "chinese", lambda: choose("zh")))))
