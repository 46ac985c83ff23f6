"""Amounts as screens and receipts show them, and the currencies the terminal knows.

An amount is an integer in its currency's minor units (DE 4 is the same
number): 1234 fen is 12.34 yuan.  ``CURRENCIES`` is the project's one table
of currencies (the host's acquirer and journal export read it too): ISO 4217
numeric code, letter code and minor-unit exponent, one a line.  Text, so it
stays in flash.
"""

CURRENCIES = """
156 CNY 2
344 HKD 2
446 MOP 2
901 TWD 2
392 JPY 0
410 KRW 0
704 VND 0
840 USD 2
978 EUR 2
826 GBP 2
702 SGD 2
458 MYR 2
764 THB 2
048 BHD 3
368 IQD 3
400 JOD 3
414 KWD 3
434 LYD 3
512 OMR 3
788 TND 3
"""


def _row(currency):
    """(letters, exponent) of an ISO 4217 numeric code, or None when the table lacks it."""
    at = CURRENCIES.find("\n%03d " % currency)
    if at < 0:
        return None
    return CURRENCIES[at + 5:at + 8], ord(CURRENCIES[at + 9]) - 48


def exponent(currency):
    """Digits after the decimal point; 2 for a currency the table lacks."""
    row = _row(currency)
    return 2 if row is None else row[1]


def letters(currency):
    """The letter code (CNY) of a numeric one, or the number itself when unknown."""
    row = _row(currency)
    return "%03d" % currency if row is None else row[0]


def format_digits(digits, count, places=2):
    """ASCII digits of minor units -> a decimal string: b'1234' -> '12.34' (typed amounts)."""
    i = 0
    while i < count - 1 and digits[i] == 48:
        i += 1
    units = bytes(digits[i:count]).decode() if count else "0"
    if not places:
        return units
    if len(units) <= places:
        units = "0" * (places + 1 - len(units)) + units
    return units[:-places] + "." + units[-places:]


def money(amount, currency=156):
    """Minor units as screens and receipts show them: 1234 -> '12.34'."""
    digits = str(amount).encode()
    return format_digits(digits, len(digits), exponent(currency))
