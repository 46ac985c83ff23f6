"""The terminal's own settings on flash, kept across reboots and power cuts.

One small file on the board's LittleFS partition (``board.SETTINGS_FILE``),
never edited in place: the new settings are written whole to a second file,
which then takes the first one's name.  LittleFS commits a rename
atomically, so a power cut at any write leaves the old settings or the new
ones, never neither and never half of each.  Each line is ``name=value``;
the last is the CRC-32 of the lines before it, in hex, so a file damaged
in any other way is known as damaged and not believed.

What is kept: the screen language, the supervisor password's PBKDF2
record (never the password), the wrong tries in a row and whether they
locked the supervisor functions.  Only the names ``save`` writes are read
back, so a stray line can never set anything else.
"""
from binascii import crc32


def load(config, path):
    """Sets ``config``'s kept settings from ``path``: True if it was read, False if absent or damaged."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return False
    end = text.rfind("\n", 0, len(text) - 1) + 1  # the last line: the CRC
    if text[end:] != "%08x\n" % (crc32(text[:end]) & 0xFFFFFFFF):
        return False
    for line in text[:end].split("\n"):
        name, _, value = line.partition("=")
        if name == "language" or name == "supervisor_password":
            setattr(config, name, value)
        elif name == "password_tries" or name == "locked":
            setattr(config, name, int(value))
    return True


def save(config, path):
    """Writes ``config``'s kept settings to ``path``, replacing what was there in one step."""
    text = "language=%s\nsupervisor_password=%s\npassword_tries=%d\nlocked=%d\n" % (
        config.language, config.supervisor_password, config.password_tries, config.locked)
    scratch = path + ".new"
    with open(scratch, "w") as f:
        f.write(text)
        f.write("%08x\n" % (crc32(text) & 0xFFFFFFFF))
    import os
    os.rename(scratch, path)
