"""Factory fixtures of later areas, one module each; tests/conftest.py registers them all.

A module here defines pytest fixtures named `make_<thing>` (`make_booking`, ...) with sensible
defaults, built on the core factories of tests/conftest.py.
"""
