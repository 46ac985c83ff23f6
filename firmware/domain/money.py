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


def currency(code):
    """(letters, exponent) of an ISO 4217 numeric code: (CNY, 2) for 156; (its number, 2) when unknown."""
    at = CURRENCIES.find("\n%03d " % code)
    if at < 0:
        return "%03d" % code, 2
    return CURRENCIES[at + 5:at + 8], ord(CURRENCIES[at + 9]) - 48


def format_digits(digits, count, exponent=2):
    """ASCII digits of minor units -> a decimal string: b'1234' -> '12.34' (typed amounts)."""
    i = 0
    while i < count - 1 and digits[i] == 48:
        i += 1
    units = bytes(digits[i:count]).decode() if count else "0"
    if not exponent:
        return units
    if len(units) <= exponent:
        units = "0" * (exponent + 1 - len(units)) + units
    return units[:-exponent] + "." + units[-exponent:]


def money(amount, code=156):
    """Minor units as screens and receipts show them: 1234 -> '12.34' (2 decimals for an unknown currency)."""
    digits = str(amount).encode()
    return format_digits(digits, len(digits), currency(code)[1])
