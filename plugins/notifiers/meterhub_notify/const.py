"""Names and defaults of the notify plugin."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "notify"
CONF_NOTIFY: Final = "notify"
CONF_NOTICES: Final = "notices"
TENANT: Final = "tenant"  # notify.tenant: the account's own contacts.notify URLs
LANDLORD: Final = "landlord"  # the notifier landlord notices go to by default
DEFAULT_TYPE: Final = "apprise"

EVENT_NOTIFY_SENT: Final = "notify_sent"  # {notifier, target, attempts, notice, account_id}
EVENT_NOTIFY_FAILED: Final = "notify_failed"  # ... + error (never a URL)
EVENT_NOTIFY_SKIPPED: Final = "notify_skipped"  # {notice, account_id, reason}

# Reasons in notify_skipped / notify_failed.
REASON_NO_CONTACTS: Final = "no_contacts"
REASON_DUPLICATE: Final = "duplicate"
REASON_QUEUE_FULL: Final = "queue_full"
REASON_UNKNOWN_ACCOUNT: Final = "unknown_account"

DEFAULT_TIMEOUT: Final = timedelta(seconds=10)
DEFAULT_RETRIES: Final = 3
DEFAULT_RETRY_DELAY: Final = timedelta(seconds=2)
DEFAULT_MAX_RETRY_DELAY: Final = timedelta(minutes=1)
DEFAULT_QUEUE_SIZE: Final = 100
DEFAULT_DEDUPE: Final = timedelta(minutes=30)
TENANT_WORKERS: Final = 4  # tenant messages go to many URLs: a slow one must not hold all
DRAIN_TIMEOUT: Final = 3.0  # at shutdown, how long queued messages may still go out
