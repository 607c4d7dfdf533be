"""The HTTP API (FastAPI): a thin adapter over the core. See docs/api.md.

Accounts and tokens (:mod:`.accounts`) and background imports (:mod:`.imports`) do not depend on FastAPI, so the
CLI can bootstrap accounts without the server.
"""
