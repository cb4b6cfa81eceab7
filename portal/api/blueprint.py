"""The Blueprint every API module uses: flask-smorest's, with a JSON parser that never turns bad input into a 500."""

from __future__ import annotations

import json
from typing import Any

from flask import Request
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser


class JsonParser(FlaskParser):
    """webargs' parser, answering 400 for JSON that Python's decoder refuses with something other than a
    JSONDecodeError: nesting deeper than the recursion limit (RecursionError), an integer of more than 4,300
    digits (ValueError). Left alone, both would end as a 500."""

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise
        except (RecursionError, ValueError):
            raise json.JSONDecodeError("JSON too deeply nested or a number too long", "(body)", 0) from None


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = JsonParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's, with portal.inputs' rules (no control characters, integers within their column, dates
        within MIN_YEAR..MAX_YEAR) added to every field of the schema: a 422 naming the field, never a 500."""
        from portal.inputs import guard_schema

        instance = schema() if isinstance(schema, type) else schema
        return super().arguments(guard_schema(instance), *args, **kwargs)
