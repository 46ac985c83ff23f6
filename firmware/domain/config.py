"""Terminal configuration: the demo values, overridable by the board and at run time."""


class Config:
    terminal_id = "TERM0001"
    merchant_id = "MERCHANT0000001"
    merchant_name = "MICROPOS 演示商户"  # on receipts; its 中文 is in the glyph file (micropos font build)
    currency = 156                  # ISO 4217 numeric: CNY, 2 decimals
    # The supervisor password as a PBKDF2 record (domain/pbkdf2), never the password: this one is the
    # factory password of design.md's demo, changed at the keypad (FUNC 7 2) and kept by store/prefs.
    supervisor_password = "2000$6d6963726f706f7320666163746f7279$85e770222db6fa20fb384c156d0b1cc264fc1ffb6cca87d7de4df3c37bffdf9a"  # noqa: E501
    password_tries = 0              # wrong supervisor passwords in a row, kept across reboots
    locked = 0                      # 1 while three wrong ones lock the supervisor functions, kept too
    lock_minutes = 5                # how long: of powered-on time, a reboot starts it again
    acquirer = ("127.0.0.1", 8583)
    language = "en"                 # "en" or "zh"
    utc_offset_min = 480            # local time for screens and receipts: UTC+8
    batch_limit = 500               # approved transactions a batch may hold: DE 63 counts them in 3 digits
    idle_timeout_s = 60
    connect_timeout_s = 10
    response_timeout_s = 30
    # MAC keys: the DUKPT initial key derived for this terminal (never the BDK) and its ID
    initial_key = "1273671EA26AC29AFA4D1084127652A1"
    initial_key_id = "1234567890123456"

    def set(self, name, text):
        """Sets a known setting from its text form; ValueError for an unknown one."""
        current = getattr(Config, name, None)
        if current is None or name.startswith("_"):
            raise ValueError("unknown setting '%s'" % name)
        if isinstance(current, int):
            value = int(text)
        elif isinstance(current, tuple):
            host, port = text.rsplit(":", 1)
            value = (host, int(port))
        else:
            value = text
        setattr(self, name, value)
