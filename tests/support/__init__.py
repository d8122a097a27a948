"""Helpers shared by test modules: fakes, real servers on loopback, small waits. Fixtures live
in the conftest.py files."""
