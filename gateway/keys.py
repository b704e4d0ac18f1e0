"""Typed keys for what the gateway keeps on its application and requests."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from arq.connections import ArqRedis

from shared.auth import Principal
from shared.jobs import JobWaiter
from shared.services import Services
from shared.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", ArqRedis)
WAITER = web.AppKey("waiter", JobWaiter)
SERVICES = web.AppKey("services", Services)

PRINCIPAL = web.RequestKey("principal", Principal)
TRANSACTION_ID = web.RequestKey("transaction_id", str)
REQUEST_ID = web.RequestKey("request_id", str)
