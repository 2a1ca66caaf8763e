"""Load the real handlers of template.yaml in-process and invoke them with a Lambda-like context.

Every function runs in this one process (moto's in-process mock must be visible to them, and there is no
Docker), so three things Lambda gives each function separately are emulated here:
- modules: several functions have an `app.py`, so each handler file is loaded by path under a unique
  module name (`fn_<LogicalId>_app`) instead of by `import app`;
- code paths: the template's own layers go on sys.path (Lambda's /opt/python) for good;
- environment: os.environ is process-wide, so a function's variables are written into it while its
  module is imported and again before each invocation. Variables that all functions share (the
  template's Globals) are therefore always right; the few that differ per function (for instance
  POWERTOOLS_SERVICE_NAME) are right at import time, which is when Powertools reads them;
- logs: the layer's modules log through Powertools child loggers named `<service>.<module>` after the
  function that imported them first, and their lines go out through that function's handler, so with one
  process for all a catalog worker's lines would name the admin page. Each such child logger therefore
  hands a line written while another function runs (in that thread) to that function's logger: every line
  names the function that wrote it, as in Lambda.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from localrun.aws import LocalResources
from localrun.template import Function, Template

Handler = Callable[[Any, Any], Any]

_IMPORT_LOCK = threading.RLock()  # importing mutates sys.path, sys.modules and os.environ
# The POWERTOOLS_SERVICE_NAME of the function this thread is running, while it runs.
_RUNNING_SERVICE: ContextVar[str | None] = ContextVar("localrun_running_service", default=None)


# The services (POWERTOOLS_SERVICE_NAME) of the functions loaded, and Powertools' name for none.
_SERVICES: set[str] = {"service_undefined"}


class _ToRunningFunction(logging.Filter):
    """On a layer module's child logger (`<service>.<module>`): a line logged while a function of another service
    runs in this thread goes out through that function's logger instead (its handler, service and Lambda
    context), as if the module had been imported by it, as in its own Lambda process; other lines pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        running = _RUNNING_SERVICE.get()
        if running is None or record.name.startswith(f"{running}."):
            return True
        target = logging.getLogger(running)
        if not target.handlers:
            return True  # that function has no handler of its own: as it was
        target.handle(record)
        return False


_TO_RUNNING_FUNCTION = _ToRunningFunction()


def _route_child_logs() -> None:
    """Give every service's child logger (those that exist now) the filter above."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        service, _, module = name.partition(".")
        routed = isinstance(logger, logging.Logger) and _TO_RUNNING_FUNCTION in logger.filters
        if module and service in _SERVICES and isinstance(logger, logging.Logger) and not routed:
            logger.addFilter(_TO_RUNNING_FUNCTION)


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    # The Python runtime passes the memory size as a string (it comes from an environment variable).
    memory_limit_in_mb: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int
    identity: Any = None
    client_context: Any = None
    tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


@dataclass
class LocalLambda:
    """One function of the template, loaded lazily and invoked in-process."""

    function: Function
    environment: Mapping[str, str]
    function_name: str
    function_arn: str
    region: str = "us-east-1"
    _handler: Handler | None = field(default=None, init=False, repr=False)

    @property
    def logical_id(self) -> str:
        return self.function.logical_id

    @property
    def timeout(self) -> int:
        return self.function.timeout

    def runtime_environment(self) -> dict[str, str]:
        """The template's variables plus the ones the Lambda runtime itself sets."""
        return {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.function.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            **self.environment,
        }

    def _apply_environment(self) -> None:
        for name, value in self.runtime_environment().items():
            if os.environ.get(name) != value:
                os.environ[name] = value

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            with _IMPORT_LOCK:
                if self._handler is None:
                    self._handler = self._load()
        return self._handler

    def _load(self) -> Handler:
        module_file, _, attribute = self.function.handler.rpartition(".")
        if not module_file or not attribute:
            raise ValueError(f"{self.logical_id}: Handler must be 'module.function', got {self.function.handler!r}")
        code_dir = self.function.code_uri
        path = code_dir / (module_file.replace(".", "/") + ".py")
        if not path.is_file():
            raise FileNotFoundError(f"{self.logical_id}: handler file {path} does not exist")
        for layer in self.function.layers:
            if str(layer) not in sys.path:
                sys.path.append(str(layer))
        self._apply_environment()
        name = "_".join(("fn", re.sub(r"\W", "_", self.logical_id), re.sub(r"\W", "_", module_file)))
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{self.logical_id}: cannot load {path}")
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        # The code dir goes first on sys.path during the import only, so that a sibling module the
        # handler imports (`import helpers`) is found; it is still cached under its plain name.
        sys.path.insert(0, str(code_dir))
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        finally:
            sys.path.remove(str(code_dir))
        self._apply_log_level()
        self._route_logs()
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise AttributeError(f"{self.logical_id}: {path} has no callable {attribute!r}")
        return handler  # type: ignore[no-any-return]

    def _apply_log_level(self) -> None:
        """The function's POWERTOOLS_LOG_LEVEL on its service's logger, as a fresh Lambda process would have it.

        Powertools sets a logger's level when the process creates it, and the layer's child loggers
        (`<service>.tiktok_channel.…`) are created once per process, at the first import of their module: in
        one process that holds several stacks (tests, one with LogLevel WARNING), a later stack would keep the
        first one's level.
        """
        environment = self.runtime_environment()
        service, level = environment.get("POWERTOOLS_SERVICE_NAME"), environment.get("POWERTOOLS_LOG_LEVEL")
        if not service or not level:
            return
        logging.getLogger(service).setLevel(level.upper())
        for name, logger in logging.Logger.manager.loggerDict.items():
            if name.startswith(f"{service}.") and isinstance(logger, logging.Logger):
                logger.setLevel(level.upper())

    @property
    def service(self) -> str | None:
        return self.runtime_environment().get("POWERTOOLS_SERVICE_NAME")

    def _route_logs(self) -> None:
        """Route the child loggers' lines to the function running (see the module's docstring)."""
        if self.service:
            _SERVICES.add(self.service)
        _route_child_logs()

    def new_context(self) -> LambdaContext:
        request_id = str(uuid.uuid4())
        return LambdaContext(
            function_name=self.function_name,
            function_version="$LATEST",
            invoked_function_arn=self.function_arn,
            memory_limit_in_mb=str(self.function.memory_size),
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{self.function_name}",
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{request_id.replace('-', '')}",
            deadline_ms=int(time.time() * 1000) + self.function.timeout * 1000,
        )

    def invoke(self, event: Any, context: LambdaContext | None = None) -> Any:
        """Call the handler as Lambda would (its exceptions propagate to the caller)."""
        handler = self.handler
        self._apply_environment()
        running = _RUNNING_SERVICE.set(self.service)
        try:
            return handler(event, context or self.new_context())
        finally:
            _RUNNING_SERVICE.reset(running)


def load_lambdas(
    template: Template,
    environments: Callable[[str], Mapping[str, str]],
    *,
    function_name: Callable[[str], str] | None = None,
    function_arn: Callable[[str], str] | None = None,
    region: str = "us-east-1",
    include: Callable[[Function], bool] = lambda function: True,
) -> dict[str, LocalLambda]:
    """A LocalLambda per function of the template, keyed by logical id (handlers load on first use).

    Typically `load_lambdas(template, resources.function_environment, function_name=resources.function_name,
    function_arn=resources.function_arn, region=resources.region)`; see `lambdas_for`.
    """
    lambdas: dict[str, LocalLambda] = {}
    for logical_id, function in template.functions.items():
        if not include(function):
            continue
        name = function_name(logical_id) if function_name else logical_id
        arn = function_arn(logical_id) if function_arn else f"arn:aws:lambda:{region}:123456789012:function:{name}"
        lambdas[logical_id] = LocalLambda(function, environments(logical_id), name, arn, region)
    return lambdas


def lambdas_for(resources: LocalResources) -> dict[str, LocalLambda]:
    """A LocalLambda per function of a provisioned stack (functions whose Condition is false are left out)."""
    return load_lambdas(
        resources.template,
        resources.function_environment,
        function_name=resources.function_name,
        function_arn=resources.function_arn,
        region=resources.region,
        include=lambda f: f.condition is None or resources.resolver.condition(f.condition),
    )
