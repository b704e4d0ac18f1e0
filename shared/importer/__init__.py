"""``brickyard import``, ``export`` and ``retry``: a client of the HTTP API, usable against any
deployment (``--url`` / ``BRICKYARD_URL``, ``--token`` / ``BRICKYARD_TOKEN``).

It talks to the gateway only over HTTP (aiohttp's client), never to PostgreSQL or Redis."""
