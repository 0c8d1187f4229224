"""The Daybook partner dashboard (Reflex): a client of the GraphQL API only (``DAYBOOK_API_URL``).

It never touches the database. Pages live in ``pages/``, shared pieces in
``components/``, state and API calls in ``state/``.
"""

import reflex as rx

from frontend.pages.billing import billing
from frontend.pages.channels import channels
from frontend.pages.invoices import invoices
from frontend.pages.overview import overview
from frontend.pages.signin import signin
from frontend.pages.wallets import wallets
from frontend.state.billing import BillingState
from frontend.state.channels import ChannelsState
from frontend.state.day_purchases import DayPurchasesState
from frontend.state.invoices import InvoicesState
from frontend.state.live import LiveState
from frontend.state.live_tabs import follow_connections_of
from frontend.state.payments import PaymentsState
from frontend.state.wallets import WalletsState

app = rx.App()
# The live tasks end when their tab is gone: they ask this app (see state/live_tabs.py).
follow_connections_of(app)
app.add_page(signin, route="/signin", title="Sign in · Daybook")
app.add_page(
    overview, route="/", title="Overview · Daybook", on_load=LiveState.open_page("overview")
)
app.add_page(channels, route="/channels", title="Channels · Daybook", on_load=ChannelsState.load)
app.add_page(
    wallets,
    route="/wallets",
    title="Wallets · Daybook",
    on_load=[WalletsState.load, PaymentsState.load_payments],
)
app.add_page(
    billing,
    route="/billing",
    title="Billing history · Daybook",
    on_load=[BillingState.load, DayPurchasesState.load_purchases],
)
app.add_page(invoices, route="/invoices", title="Invoices · Daybook", on_load=InvoicesState.load)
