"""The OpenAPI 3.1 document served at ``/openapi.json``: generic paths, plus each loadable
policy's paths with its own facts and outputs schemas."""

from __future__ import annotations

import json
from typing import Any

from ..runtime.engine import ENGINE_VERSION
from ..runtime.json_schemas import facts_schema, outputs_schema, trace_schema
from .catalog import HASH_HEADER, Catalog
from .problems import PROBLEM


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def openapi_document(catalog: Catalog) -> dict[str, Any]:
    """OpenAPI 3.1: generic paths, plus each loadable policy's paths with its own facts
    and outputs schemas (so clients and schemathesis know the exact payloads)."""
    problems = {
        "400": _problem_response("Malformed JSON"),
        "404": _problem_response("Unknown policy"),
        "413": _problem_response("Body too large"),
        "415": _problem_response("Unsupported media type"),
        "422": _problem_response("Invalid request, facts, date, or facts that cannot be evaluated"),
        "503": _problem_response("Policy unavailable (fails to load) or time limit exceeded"),
    }
    hash_header = {
        HASH_HEADER: {"schema": {"type": "string"}, "description": "the policy's content hash"}
    }
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    on_param = {
        "name": "on",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "format": "date"},
    }
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "responses": {
                    "200": {
                        "description": "alive",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/policies": {
            "get": {
                "operationId": "listPolicies",
                "responses": {
                    "200": {
                        "description": "the policies",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PolicyList"}
                            }
                        },
                    }
                },
            }
        },
        "/policies/{id}": {
            "get": {
                "operationId": "getPolicy",
                "parameters": [id_param],
                "responses": {
                    "200": {
                        "description": "metadata, facts, outputs, in-force window",
                        "headers": hash_header,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **problems,
                },
            }
        },
        "/policies/{id}/evaluate": {
            "post": {
                "operationId": "evaluate",
                "parameters": [id_param],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/EvaluateRequest"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "trace.v1",
                        "headers": hash_header,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/TraceV1"}}
                        },
                    },
                    **problems,
                },
            }
        },
        "/policies/{id}/evaluate/batch": {
            "post": {
                "operationId": "evaluateBatch",
                "parameters": [id_param, on_param],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"type": "object"}}
                        },
                        "application/x-ndjson": {"schema": {"type": "string"}},
                    },
                },
                "responses": {
                    "200": {
                        "description": "one result or error per row",
                        "headers": hash_header,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/BatchV1"}}
                        },
                    },
                    **problems,
                },
            }
        },
    }
    trace = dict(trace_schema())
    trace.pop("$schema", None)
    trace.pop("$id", None)
    defs = trace.pop("$defs")
    trace = json.loads(json.dumps(trace).replace("#/$defs/", "#/components/schemas/"))
    defs = json.loads(json.dumps(defs).replace("#/$defs/", "#/components/schemas/"))
    schemas: dict[str, Any] = {
        **defs,
        "TraceV1": trace,
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "field": {
                    "type": "string",
                    "description": "the request field at fault, dotted (facts.monthly_pension)",
                },
                "pointer": {"type": "string", "description": "the same as a JSON Pointer"},
            },
        },
        "EvaluateRequest": {
            "type": "object",
            "required": ["facts"],
            "properties": {
                "facts": {"type": "object"},
                "on": {"type": "string", "format": "date"},
                "explain": {"type": "boolean"},
                "trace": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "PolicyList": {
            "type": "object",
            "properties": {"policies": {"type": "array", "items": {"type": "object"}}},
        },
        "BatchV1": {
            "type": "object",
            "required": ["format", "policy", "on", "content_hash", "count", "errors", "results"],
            "properties": {
                "format": {"const": "batch.v1"},
                "policy": {"type": "string"},
                "on": {"type": "string"},
                "content_hash": {"type": "string"},
                "engine_version": {"type": "string"},
                "count": {"type": "integer"},
                "errors": {"type": "integer"},
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["row"],
                        "properties": {
                            "row": {"type": "integer"},
                            "outputs": {"type": "object"},
                            "error": {
                                "type": "object",
                                "properties": {
                                    "field": {"type": ["string", "null"]},
                                    "detail": {"type": "string"},
                                },
                            },
                            "decision_id": {"type": "string"},
                        },
                    },
                },
            },
        },
    }
    for policy in catalog.loaded():
        key = "".join(part.capitalize() for part in policy.id.replace("_", "-").split("-"))
        facts = dict(facts_schema(policy))
        facts.pop("$schema", None)
        outputs = dict(outputs_schema(policy))
        outputs.pop("$schema", None)
        schemas[f"{key}Facts"] = facts
        schemas[f"{key}Outputs"] = outputs
        schemas[f"{key}Request"] = {
            "type": "object",
            "required": ["facts"],
            "properties": {
                "facts": {"$ref": f"#/components/schemas/{key}Facts"},
                "on": {
                    "type": "string",
                    "format": "date",
                    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                },
                "explain": {"type": "boolean"},
                "trace": {"type": "boolean"},
            },
            "additionalProperties": False,
        }
        schemas[f"{key}Result"] = {
            "allOf": [
                {"$ref": "#/components/schemas/TraceV1"},
                {
                    "type": "object",
                    "properties": {"outputs": {"$ref": f"#/components/schemas/{key}Outputs"}},
                },
            ]
        }
        base = f"/policies/{policy.id}"
        paths[base] = {
            "get": {
                "operationId": f"get{key}",
                "responses": {
                    "200": {
                        "description": policy.title.en,
                        "headers": hash_header,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **problems,
                },
            }
        }
        paths[f"{base}/evaluate"] = {
            "post": {
                "operationId": f"evaluate{key}",
                "summary": f"{policy.document.number} {policy.title.zh}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{key}Request"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "trace.v1",
                        "headers": hash_header,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{key}Result"}
                            }
                        },
                    },
                    **problems,
                },
            }
        }
        paths[f"{base}/evaluate/batch"] = {
            "post": {
                "operationId": f"evaluateBatch{key}",
                "parameters": [on_param],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": f"#/components/schemas/{key}Facts"},
                            }
                        },
                    },
                },
                "responses": {
                    "200": {
                        "description": "one result or error per row",
                        "headers": hash_header,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/BatchV1"}}
                        },
                    },
                    **problems,
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Guangdong gazette 2021-07-15 policy interpreter",
            "version": ENGINE_VERSION,
            "description": "Evaluate encoded policies. Errors are application/problem+json (RFC 9457).",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
