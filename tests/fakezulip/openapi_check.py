"""Checks the fake Zulip server's traffic against Zulip's own OpenAPI description.

The description is ``zerver/openapi/zulip.yaml`` of zulip/zulip, kept outside the repository at
``../shared/zulip-openapi/zulip.yaml`` (see PROVENANCE.txt next to it).  It is parsed once per
process and cached at module level; when it is absent, :func:`load_spec` returns ``None`` and
the fake server runs without checks.

Every request is validated with openapi-core the way Zulip's own test suite does it
(``zerver/openapi/openapi.py``: ``OpenAPI.validate_request`` on a ``MockRequest`` whose path
carries the ``/api/v1`` server prefix).  Every response is validated too:

* 2xx responses with ``OpenAPI.validate_response`` against the operation's declared response.
* Error responses (4xx/5xx) against the error schemas the description documents for that
  status: the operation's own (e.g. ``BadEventQueueIdError`` for ``GET /events``) plus the
  common ones of the ``/rest-error-handling`` pseudo-operation (e.g. ``RateLimitedError`` for
  429, the 401 errors).  The description lists several structurally identical ``CodedError``
  variants under one ``oneOf`` (e.g. ``PATCH /messages/{message_id}`` 400), which no body can
  match exactly once, so an error body passes when it matches at least one documented
  alternative.  A 4xx status documented nowhere falls back to ``CodedError``; 5xx statuses are
  not described at all and fall back to ``JsonResponseBase`` (an object with ``result``).

Exactly one deliberate relaxation exists, for requests only (``relax_raw_to``): ``POST
/messages`` declares ``to`` as ``application/json``, but the official ``zulip`` client sends a
channel name or an email address raw (``to=general``), which the real server accepts.  When
``to`` is not valid JSON, it is JSON-encoded before validation and nothing is recorded (the
event is noted in ``relaxations``).  Nothing else is relaxed: e.g. the 429 body's
``retry-after`` must be an integer, as the description says.

Known gap (not a relaxation): the description names its security scheme ``BasicAuth`` but
requires ``basicAuth``; openapi-core then cannot check authentication at all, so the fake server
checks HTTP basic auth itself.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

SPEC_PATH: Path = Path(
    os.environ.get("WGBOT_ZULIP_OPENAPI")
    or Path(__file__).resolve().parents[2].parent / "shared" / "zulip-openapi" / "zulip.yaml"
)

# The host part of the URL handed to openapi-core; with the "/api/v1" prefix it matches the
# description's first server, "https://{subdomain}.zulipchat.com/api/v1".
SPEC_HOST_URL = "https://example.zulipchat.com"
API_PREFIX = "/api/v1"

_cache_lock = threading.Lock()
# The parsed description is shared by every server of the process and used from the servers'
# handler threads; openapi-core's validators are not documented as thread-safe, so checks run
# one at a time (each takes a millisecond or so).
_check_lock = threading.Lock()
_spec_cache: dict[Path, Any] = {}


def load_spec(path: Path | None = None) -> Any | None:
    """The parsed description as an ``openapi_core.OpenAPI`` object, or None if the file is absent.

    Parsing the 1 MB YAML takes a noticeable fraction of a second, so it happens once per process
    and path.  The description itself is not re-validated against the OpenAPI meta-schema (that
    is upstream's CI's job and would cost about a second more).
    """
    spec_path = (path or SPEC_PATH).resolve()
    with _cache_lock:
        if spec_path in _spec_cache:
            return _spec_cache[spec_path]
        if not spec_path.is_file():
            return None
        from openapi_core import Config, OpenAPI

        yaml: Any = importlib.import_module("yaml")  # PyYAML, a dependency of openapi-core's stack

        loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with spec_path.open("rb") as fh:
            spec_dict = yaml.load(fh, Loader=loader)
        api = OpenAPI.from_dict(spec_dict, config=Config(spec_validator_cls=None))
        _spec_cache[spec_path] = api
        return api


def describe_error(exc: BaseException) -> str:
    """A readable one-paragraph account of an openapi-core error and its causes.

    Some openapi-core exceptions fail in ``__str__`` (e.g. a media-type deserialisation error
    holding a ``str`` where it expects ``bytes``), so every step is guarded.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        schema_errors = getattr(current, "schema_errors", None)
        cause = current.__cause__ or current.__context__
        if not schema_errors and getattr(cause, "schema_errors", None):
            parts.append(type(current).__name__)  # its text repeats the whole value; the cause says why
        elif schema_errors:
            messages = []
            for err in schema_errors:
                messages.append(_describe_schema_error(err))
            parts.append(f"{type(current).__name__}: " + "; ".join(messages))
        else:
            try:
                text = str(current)
            except Exception:  # openapi-core bug in some __str__ methods
                text = repr(getattr(current, "value", ""))[:200]
            if len(text) > 400:
                text = text[:400] + "..."
            parts.append(f"{type(current).__name__}: {text}" if text else type(current).__name__)
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def _describe_schema_error(err: Any) -> str:
    """A jsonschema error, descending into ``oneOf``/``anyOf`` to the alternative that got furthest."""
    best = err
    while getattr(best, "context", None):
        best = _closest_alternative(best.context)
    message = str(getattr(best, "message", best))
    if len(message) > 300:
        message = message[:300] + "..."
    location = "/".join(str(p) for p in getattr(best, "absolute_path", ()))
    return f"{message} (at /{location})" if location else message


def _closest_alternative(context: list[Any]) -> Any:
    """The most telling error among a ``oneOf``'s alternatives.

    Zulip's event schema is a oneOf of ~70 alternatives told apart by ``type``/``op`` enums, so
    alternatives failing on those are skipped, and of the rest the one with fewest errors wins.
    """
    by_alternative: dict[Any, list[Any]] = {}
    for error in context:
        key = next(iter(error.relative_schema_path), None)
        by_alternative.setdefault(key, []).append(error)

    def discriminated(errors: list[Any]) -> bool:
        return any(e.validator == "enum" and list(e.absolute_path)[-1:] in (["type"], ["op"]) for e in errors)

    groups = [g for g in by_alternative.values() if not discriminated(g)] or list(by_alternative.values())
    group = min(groups, key=len)
    return max(group, key=lambda e: len(tuple(e.absolute_path)))


@dataclass
class CheckResult:
    violations: list[str] = field(default_factory=list)
    relaxations: list[str] = field(default_factory=list)


def _mimetype(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class OpenAPIChecker:
    """Validates one server's requests and responses against the cached description."""

    def __init__(self, api: Any, *, relax_raw_to: bool = True) -> None:
        self.api = api
        self.relax_raw_to = relax_raw_to
        from openapi_core.templating.paths.finders import APICallPathFinder
        from openapi_core.validation.schemas import oas30_read_schema_validators_factory

        self._finder = APICallPathFinder(api.spec)
        self._schema_validators = oas30_read_schema_validators_factory

    # -- requests ---------------------------------------------------------------------------

    def _mock_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        content_type: str | None,
    ) -> Any:
        from openapi_core.testing import MockRequest

        return MockRequest(
            SPEC_HOST_URL,
            method.lower(),
            path,
            args={k: list(v) for k, v in query.items()},
            headers=dict(headers),
            data=body,
            # a multipart body can't be read without its boundary parameter
            content_type=(content_type if _mimetype(content_type) == "multipart/form-data" else None)
            or _mimetype(content_type)
            or "application/x-www-form-urlencoded",
        )

    def _relax_to(self, method: str, path: str, body: bytes, content_type: str | None) -> tuple[bytes, str]:
        """The one documented relaxation: JSON-encode a raw ``to`` of ``POST /messages``."""
        if not (
            self.relax_raw_to
            and method.upper() == "POST"
            and path == API_PREFIX + "/messages"
            and _mimetype(content_type) == "application/x-www-form-urlencoded"
        ):
            return body, ""
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        changed = ""
        fixed: list[tuple[str, str]] = []
        for key, value in pairs:
            if key == "to":
                try:
                    json.loads(value)
                except ValueError:
                    changed = value
                    value = json.dumps(value)
            fixed.append((key, value))
        if not changed:
            return body, ""
        note = f"POST {path}: raw `to`={changed!r} JSON-encoded before validation (relax_raw_to)"
        return urlencode(fixed).encode(), note

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        content_type: str | None,
    ) -> CheckResult:
        result = CheckResult()
        if not path.startswith(API_PREFIX + "/"):
            return result
        body, note = self._relax_to(method, path, body, content_type)
        if note:
            result.relaxations.append(note)
        request = self._mock_request(method, path, query, headers, body, content_type)
        try:
            with _check_lock:
                errors = list(self.api.request_validator.iter_errors(request))
        except Exception as exc:  # a bug in the checker must not pass silently
            errors = [exc]
        for err in errors:
            result.violations.append(f"request {method.upper()} {path}: {describe_error(err)}")
        return result

    # -- responses --------------------------------------------------------------------------

    def _operation(self, method: str, path: str) -> Any | None:
        try:
            return self._finder.find(method.lower(), SPEC_HOST_URL + path).operation
        except Exception:
            return None

    def _response_schemas(self, operation: Any, status: int) -> list[Any]:
        """The alternatives (``oneOf`` members, or the schema itself) declared for ``status``."""
        if operation is None:
            return []
        responses = operation / "responses"
        key = str(status)
        if key not in responses:
            return []
        response = responses / key
        content = response / "content"
        if "application/json" not in content:
            return []
        schema = content / "application/json" / "schema"
        if "oneOf" in schema:
            return list(schema / "oneOf")
        return [schema]

    def _iter_schema_errors(self, schema: Any, value: Any) -> Iterator[str]:
        validator = self._schema_validators.create(self.api.spec, schema)
        try:
            validator.validate(value)
        except Exception as exc:
            yield describe_error(exc)

    def _error_candidates(self, method: str, path: str, status: int) -> list[Any]:
        candidates = self._response_schemas(self._operation(method, path), status)
        common = self._operation("post", API_PREFIX + "/rest-error-handling")
        candidates += self._response_schemas(common, status)
        if not candidates:
            schemas = self.api.spec / "components" / "schemas"
            candidates = [schemas / ("CodedError" if status < 500 else "JsonResponseBase")]
        return candidates

    def check_response(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        content_type: str | None,
        status: int,
        response_body: bytes,
    ) -> CheckResult:
        result = CheckResult()
        if not path.startswith(API_PREFIX + "/"):
            return result
        where = f"response {method.upper()} {path} ({status})"
        if status < 400:
            from openapi_core.testing import MockResponse

            body, _ = self._relax_to(method, path, body, content_type)
            request = self._mock_request(method, path, query, headers, body, content_type)
            response = MockResponse(response_body, status_code=status, content_type="application/json")
            try:
                with _check_lock:
                    errors = list(self.api.response_validator.iter_errors(request, response))
            except Exception as exc:
                errors = [exc]
            result.violations.extend(f"{where}: {describe_error(err)}" for err in errors)
            return result
        try:
            value = json.loads(response_body)
        except ValueError as exc:
            result.violations.append(f"{where}: body is not JSON: {exc}")
            return result
        failures: list[str] = []
        with _check_lock:
            for schema in self._error_candidates(method, path, status):
                errors = list(self._iter_schema_errors(schema, value))
                if not errors:
                    return result
                failures.append(f"[{schema_name(schema)}] " + "; ".join(errors))
        result.violations.append(f"{where}: matches no documented error schema: " + " | ".join(failures))
        return result


def schema_name(schema: Any) -> str:
    """A short label for a schema path, for messages."""
    parts: Iterable[Any] = getattr(schema, "parts", ())
    return "/".join(str(p) for p in parts)[-90:]
