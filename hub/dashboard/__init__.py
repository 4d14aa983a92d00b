"""The landlord's dashboard: overview, meters and accounts pages, and the history API.

A face above every package (it reads metering, the ledger, billing and prepaid control and
calls their services as the logged-in user). Its routes reach the web app through the
``register_routes`` hook, so the web server itself imports none of the packages they show;
each page renders with the app's :class:`hub.web.pages.PageKit`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..core import Hub


@hookimpl
def register_routes(hub: Hub) -> list[Any]:
    """The dashboard's pages."""
    from .accounts import AccountPages
    from .alarm_pages import AlarmPages
    from .automation_pages import AutomationPages
    from .bill_pages import BillPages
    from .health_pages import HealthPages
    from .history import HistoryApi
    from .meters import MeterPages
    from .notification_pages import NotificationPages
    from .overview import OverviewPage
    from .payment_pages import PaymentPages
    from .report_pages import ReportPages
    from .setup_pages import SetupPages
    from .user_pages import UserPages

    return [*OverviewPage(hub).routes(), *MeterPages(hub).routes(),
            *AccountPages(hub).routes(), *HistoryApi(hub).routes(),
            *SetupPages(hub).routes(), *AutomationPages(hub).routes(),
            *ReportPages(hub).routes(), *HealthPages(hub).routes(),
            *AlarmPages(hub).routes(), *UserPages(hub).routes(), *BillPages(hub).routes(),
            *PaymentPages(hub).routes(), *NotificationPages(hub).routes()]
