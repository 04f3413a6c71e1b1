"""journeyctl: RudderStack tracks → customer journey tables on any warehouse.

The Python API lives in journeyctl.api (`from journeyctl.api import render, run`); run,
export_dbt, run_statements, Script, Statement and RunResult are also importable from here,
loaded on first use so that `import journeyctl` (and the CLI's start) stays light. The API's
render is not re-exported: `journeyctl.render` is the renderer module.
"""

__version__ = "0.1.0"

_LAZY = {"run": "api", "export_dbt": "api", "run_statements": "api", "Script": "api",
         "Statement": "api", "RunResult": "runner"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"journeyctl.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'journeyctl' has no attribute {name!r}")
