"""Names and defaults of the notify plugin."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from .limits import Window

DOMAIN: Final = "notify"
CONF_NOTIFY: Final = "notify"
CONF_NOTICES: Final = "notices"
TENANT: Final = "tenant"  # notify.tenant: the account's own contacts.notify URLs
LANDLORD: Final = "landlord"  # the notifier landlord notices go to by default
DEFAULT_TYPE: Final = "apprise"


# Reasons in notify_skipped / notify_failed.
REASON_NO_CONTACTS: Final = "no_contacts"
REASON_DUPLICATE: Final = "duplicate"
REASON_QUEUE_FULL: Final = "queue_full"
REASON_UNKNOWN_ACCOUNT: Final = "unknown_account"
REASON_MERGED: Final = "merged"
REASON_EXPIRED: Final = "expired"
REASON_TARGET_GONE: Final = "target_gone"

DEFAULT_TIMEOUT: Final = timedelta(seconds=10)
DEFAULT_RETRIES: Final = 3
DEFAULT_RETRY_DELAY: Final = timedelta(seconds=2)
DEFAULT_MAX_RETRY_DELAY: Final = timedelta(minutes=1)
DEFAULT_QUEUE_SIZE: Final = 100
DEFAULT_DEDUPE: Final = timedelta(minutes=30)
DEFAULT_EXPIRE: Final = timedelta(days=1)  # a message not delivered by then fails (expired)
DEFAULT_STORM: Final = Window(10, 60.0)  # per receiver: 10 a minute, the rest in a summary
KEEP_ROWS: Final = timedelta(days=30)  # delivered / failed outbox rows kept this long
SUMMARY_LINES: Final = 20  # held messages a summary shows one line each
TENANT_WORKERS: Final = 4  # tenant messages go to many URLs: a slow one must not hold all
DRAIN_TIMEOUT: Final = 3.0  # at shutdown, how long queued messages may still go out
