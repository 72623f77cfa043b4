"""The baseline for bench/ingest.py: a minimal Django app outside the project's middleware stack.

What any Twilio webhook must do and nothing more: check the signature, encrypt the body
with AES-GCM, insert one row, answer empty TwiML; CommonMiddleware only, the same database
pool. Served by uvicorn as ``bench.bare_app.asgi:application``; never part of the product.
"""
