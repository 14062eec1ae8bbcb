"""Helpers shared by the test modules: harnesses, receivers, record builders. No tests and no fixtures
here except the alert receivers (registered by tests/conftest.py); conftest files hold the fixtures."""
