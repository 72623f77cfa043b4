"""Tests of the adapters to the outside world, each against local servers only."""
