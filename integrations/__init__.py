"""Adapters to the outside world: one self-contained Django app per system (twilio/, and the transports to come)."""
