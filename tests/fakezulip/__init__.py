"""A fake Zulip server for integration tests (see ``server.FakeZulip``)."""

from .openapi_check import SPEC_PATH, OpenAPIChecker, load_spec
from .server import ApiError, FakeZulip, LoggedRequest

__all__ = ["SPEC_PATH", "ApiError", "FakeZulip", "LoggedRequest", "OpenAPIChecker", "load_spec"]
