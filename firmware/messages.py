"""Every word the terminal shows, by language.

Screens ask for text by key; a missing 中文 entry falls back to English so a
half-translated build still says something.
"""

EN = {
    "title": "MICROPOS",
    "func_menu": "FUNC: menu",
    "menu": "MENU",
    "sale": "SALE",
    "void": "VOID",
    "refund": "REFUND",
    "history": "HISTORY",
    "settlement": "SETTLEMENT",
    "reprint": "REPRINT",
    "settings": "SETTINGS",
    "not_built": "Not available",
    "not_built2": "in this build",
    "cancel_back": "CANCEL: idle",
    "enter_ok": "ENTER:OK",
    "too_short": "Too short",
}

ZH = {
    "title": "MICROPOS",
    "func_menu": "FUNC:菜单",
    "menu": "菜单",
    "sale": "消费",
    "void": "撤销",
    "refund": "退货",
    "history": "交易查询",
    "settlement": "结算",
    "reprint": "重打印",
    "settings": "设置",
    "not_built": "暂不支持",
    "not_built2": "",
    "cancel_back": "取消:返回",
    "enter_ok": "确认:继续",
    "too_short": "位数不足",
}


def lookup(language, key):
    table = ZH if language == "zh" else EN
    text = table.get(key)
    if text is None:
        text = EN.get(key, key)
    return text
