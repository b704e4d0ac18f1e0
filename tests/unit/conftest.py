"""The unit tier: pure code only. Nothing here may ask for a fixture that starts PostgreSQL,
Redis or a process (``settings``, ``services``, ``client``...): ``make test-unit`` runs this
folder alone, without servers, in a few seconds."""
