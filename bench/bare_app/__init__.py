"""The baselines for bench/ingest.py and bench/api.py: a minimal Django app outside the project's stack.

For ingest, what any Twilio webhook must do and nothing more: check the signature, encrypt the
body with AES-GCM, insert one row, answer empty TwiML. For the API, the list page and the fetch
by the raw SQL (``referrals``), the fetched document decrypted, as JSON. CommonMiddleware only,
the same database pool. Served by uvicorn as ``bench.bare_app.asgi:application``; never part of the product.
"""
