"""The baseline for bench/ingest.py: the project's own settings and middleware, plus one bare view.

Served with DJANGO_SETTINGS_MODULE=bench.bare_app.settings; never part of the production URLconf.
"""
