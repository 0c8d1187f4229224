"""The domain: models and rules; no GraphQL, no HTTP.

Importing it names the one reactor of committed movements
(``reactions``) to the unit of work, so that every way in (the API, the
CLI, the jobs, a test) gets the same alerts, events and recharges.
"""

from backend.domain import reactions

reactions.install()
