"""Every word the terminal shows, by language.

The words live in one module per language (lang_en, lang_zh), each a single
string of ``key=text`` lines; only English and the chosen language are
loaded.  A missing 中文 entry falls back to English so a half-translated
build still says something, and a missing key shows as itself.
"""
import lang_en

_chosen = None  # (language, its words)


def _find(words, key):
    at = words.find("\n" + key + "=")
    if at < 0:
        return None
    start = at + len(key) + 2
    return words[start:words.find("\n", start)]


def lookup(language, key):
    global _chosen
    if language != "en":
        if _chosen is None or _chosen[0] != language:
            _chosen = (language, __import__("lang_" + language).WORDS)
        text = _find(_chosen[1], key)
        if text is not None:
            return text
    text = _find(lang_en.WORDS, key)
    return key if text is None else text
