"""Terminal configuration: the demo values, overridable by the board and at run time."""


class Config:
    terminal_id = "TERM0001"
    merchant_id = "MERCHANT0000001"
    currency = 156                  # ISO 4217 numeric: CNY, 2 decimals
    supervisor_password = "123456"
    acquirer = ("127.0.0.1", 8583)
    language = "en"                 # "en" or "zh"
    idle_timeout_s = 60
    connect_timeout_s = 10
    response_timeout_s = 30

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
