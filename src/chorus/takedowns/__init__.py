"""Takedowns: whom to notify about a copy, notices that meet each law, tracked to removal.

- ``recipient``: the data types every part shares (a :class:`Recipient` and its role).
- ``discovery``: from a URL to recipients (site operator, host, registrar, CDN, search
  engines), each with where it was found and how sure we are.
- ``notices`` / ``sending`` / ``tracking`` / ``metrics``: notices per legal regime, sent
  idempotently, followed until the monitor verifies removal.

Other domains use these service functions, never the tables.
"""
