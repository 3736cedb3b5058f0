"""The HTTP API under ``/v1``: routes, request and response schemas, bearer-token auth, the
claim lane, idempotency and the one error shape."""
