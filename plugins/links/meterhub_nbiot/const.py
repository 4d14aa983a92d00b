"""Names, events, command states and defaults of the ``nbiot`` link."""

from __future__ import annotations

from typing import Final

LINK_TYPE: Final = "nbiot"

# Events (all carry ``link`` and ``meter_id``).

# Command rows (storage ``command`` table, ``params.queue == "nbiot"``).
QUEUE_NAME: Final = "nbiot"
STATE_QUEUED: Final = "queued"  # waits for the meter's next uplink
STATE_SENDING: Final = "sending"  # claimed by a delivery now (back to queued after a crash)
STATE_SENT: Final = "sent"  # handed to the platform (CTWing/OneNET), which caches it
STATE_DONE: Final = "done"  # the meter acknowledged it
STATE_FAILED: Final = "failed"  # refused by the meter or the platform, or out of attempts
STATE_EXPIRED: Final = "expired"  # not acknowledged before its expiry
STATE_CANCELLED: Final = "cancelled"  # withdrawn by the caller while still queued
OPEN_STATES: Final = (STATE_QUEUED, STATE_SENDING, STATE_SENT)
FINAL_STATES: Final = (STATE_DONE, STATE_FAILED, STATE_EXPIRED, STATE_CANCELLED)

TIME_SYNC: Final = "time_sync"  # a command name besides hub.metering.model.Command's

# Uplink paths (how a meter last reached the hub, and so how its downlinks go out).
PATH_UDP: Final = "udp"
PATH_CTWING: Final = "ctwing"
PATH_ONENET: Final = "onenet"

DEFAULT_CTWING_API: Final = "https://ag-api.ctwing.cn"
DEFAULT_ONENET_API: Final = "https://api.heclouds.com"
CTWING_COMMAND_PATH: Final = "/aep_device_command/command"
CTWING_COMMAND_VERSION: Final = "20190712225145"
CTWING_ECHO_PATH: Final = "/echo"
ONENET_OFFLINE_EXECUTE_PATH: Final = "/nbiot/execute/offline"

MAX_BODY_DEFAULT: Final = 16384  # bytes of one push body
MAX_DATAGRAM: Final = 2048  # bytes of one UDP uplink taken
MAX_LOGGED_PER_MINUTE: Final = 20  # bad-input log lines per link and minute (the rest counted)
# Refusals that mean an uplink was forged (or the platform's token is not set), and the
# link_alarm kind each raises.
ALARMED_REASONS: Final = {"unauthorized": "push_refused", "bad_signature": "push_refused",
                          "not_configured": "push_refused", "source_refused": "source_refused"}
