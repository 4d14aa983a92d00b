"""DL/T 645-2007 constants: control codes, error word bits, relay actions, names (en/zh)."""

from __future__ import annotations

from enum import IntEnum

PROTOCOL = "dlt645"

START = 0x68
END = 0x16
WAKE = 0xFE
PREAMBLE = b"\xfe\xfe\xfe\xfe"
OFFSET = 0x33

HEADER_LEN = 10  # 68 A0..A5 68 C L
MIN_FRAME = 12  # header + CS + 16, no data
MAX_DATA = 255  # L is one byte
MAX_FRAME = MIN_FRAME + MAX_DATA

BROADCAST = "999999999999"
WILDCARD = "AAAAAAAAAAAA"

# control byte bits
DIR_REPLY = 0x80  # D7: meter -> master
ABNORMAL = 0x40  # D6: error answer
FOLLOW_UP = 0x20  # D5: more frames follow
FUNCTION_MASK = 0x1F


class Function(IntEnum):
    """Function codes (control byte D4..D0) of DL/T 645-2007."""

    SECURITY = 0x03
    BROADCAST_TIME = 0x08
    READ = 0x11
    READ_FOLLOW_UP = 0x12
    READ_ADDRESS = 0x13
    WRITE = 0x14
    WRITE_ADDRESS = 0x15
    FREEZE = 0x16
    CHANGE_BAUD = 0x17
    CHANGE_PASSWORD = 0x18
    DEMAND_CLEAR = 0x19
    METER_CLEAR = 0x1A
    EVENT_CLEAR = 0x1B
    RELAY_CONTROL = 0x1C
    TERMINAL_OUTPUT = 0x1D


FUNCTION_NAMES: dict[int, tuple[str, str]] = {
    Function.SECURITY: ("security authentication", "安全认证"),
    Function.BROADCAST_TIME: ("broadcast time sync", "广播校时"),
    Function.READ: ("read data", "读数据"),
    Function.READ_FOLLOW_UP: ("read follow-up data", "读后续数据"),
    Function.READ_ADDRESS: ("read communication address", "读通信地址"),
    Function.WRITE: ("write data", "写数据"),
    Function.WRITE_ADDRESS: ("write communication address", "写通信地址"),
    Function.FREEZE: ("freeze", "冻结命令"),
    Function.CHANGE_BAUD: ("change baud rate", "更改通信速率"),
    Function.CHANGE_PASSWORD: ("change password", "修改密码"),
    Function.DEMAND_CLEAR: ("maximum demand clear", "最大需量清零"),
    Function.METER_CLEAR: ("meter clear (zeroes energy)", "电表清零"),
    Function.EVENT_CLEAR: ("event clear", "事件清零"),
    Function.RELAY_CONTROL: ("relay / alarm / protect control", "跳合闸、报警、保电"),
    Function.TERMINAL_OUTPUT: ("multi-function terminal output mode", "多功能端子输出控制"),
}

# ERR word (1 byte) of abnormal replies: bit -> (en, zh)
ERROR_BITS: tuple[tuple[int, str, str], ...] = (
    (0x01, "other error", "其他错误"),
    (0x02, "no requested data", "无请求数据"),
    (0x04, "password wrong / not authorised", "密码错/未授权"),
    (0x08, "communication rate cannot be changed", "通信速率不能更改"),
    (0x10, "year time-zone count exceeded", "年时区数超"),
    (0x20, "daily time-segment count exceeded", "日时段数超"),
    (0x40, "tariff count exceeded", "费率数超"),
    (0x80, "reserved error bit 7", "保留错误位7"),
)

ERR_OTHER = 0x01
ERR_NO_DATA = 0x02
ERR_PASSWORD = 0x04
ERR_BAUD = 0x08


class RelayAction(IntEnum):
    """N1 of a 0x1C relay / alarm / protect control frame."""

    TRIP = 0x1A
    CLOSE_ALLOWED = 0x1B
    CLOSE = 0x1C
    TRIP_RESTORE_CLOSE = 0x1D
    TRIP_RESTORE_ALLOWED = 0x1E
    ALARM_ON = 0x2A
    ALARM_OFF = 0x2B
    PROTECT_ON = 0x3A
    PROTECT_OFF = 0x3B


RELAY_ACTION_NAMES: dict[RelayAction, tuple[str, str, str]] = {
    RelayAction.TRIP: ("trip", "trip (relay opens)", "拉闸"),
    RelayAction.CLOSE_ALLOWED: ("close_allowed", "close allowed (user closes)", "合闸允许"),
    RelayAction.CLOSE: ("close", "close directly", "直接合闸"),
    RelayAction.TRIP_RESTORE_CLOSE: ("trip_restore_close",
                                     "trip, then restore to direct close after a delay",
                                     "跳闸自动恢复至直接合闸"),
    RelayAction.TRIP_RESTORE_ALLOWED: ("trip_restore_allowed",
                                       "trip, then restore to close allowed after a delay",
                                       "跳闸自动恢复至合闸允许"),
    RelayAction.ALARM_ON: ("alarm_on", "alarm on", "报警"),
    RelayAction.ALARM_OFF: ("alarm_off", "alarm release", "报警解除"),
    RelayAction.PROTECT_ON: ("protect_on", "protect on (refuses trips)", "保电"),
    RelayAction.PROTECT_OFF: ("protect_off", "protect release", "保电解除"),
}

RELAY_ACTION_BY_NAME: dict[str, RelayAction] = {
    names[0]: action for action, names in RELAY_ACTION_NAMES.items()
}

# baud feature word Z (one bit set)
BAUD_WORD: dict[int, int] = {600: 0x02, 1200: 0x04, 2400: 0x08, 4800: 0x10, 9600: 0x20,
                             19200: 0x40}

PASSWORD_LEVEL_ESAM = 0x98
