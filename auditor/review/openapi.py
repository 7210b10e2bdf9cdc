"""The OpenAPI 3.1 description of the review API (served at /api/schema.json).

Written by hand next to the endpoints; tests/test_review_api.py checks that every API URL is described
here and that the examples it sends match the schemas.
"""

from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_ERROR = {"description": "An error", "content": {"application/json": {"schema": _ref("Error")}}}
_WRITE: dict[str, list[dict[str, list[str]]]] = {"security": [{"session": [], "csrf": []}]}


def _json(ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(ref)}}}


def _errors(*codes: int) -> dict:
    return {str(code): _ERROR for code in codes}


def _body(ref: str) -> dict:
    return {"required": False, "content": {"application/json": {"schema": _ref(ref)}}}


_ITEM_ID = [
    {
        "name": "item_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    }
]

COMPONENTS = {
    "securitySchemes": {
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "Log in at /login/ (form POST with the csrftoken cookie) to get it.",
        },
        "csrf": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": "The csrftoken cookie's value; required on every POST.",
        },
    },
    "schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        "Item": {
            "type": "object",
            "required": [
                "id",
                "dataset",
                "kind",
                "question",
                "tag",
                "clip",
                "audio_url",
                "spectrogram_url",
                "reveal_label",
                "reveal_url",
            ],
            "properties": {
                "id": {"type": "integer"},
                "dataset": {"type": "string"},
                "kind": {"enum": ["flagged", "calibration", "external"]},
                "question": {"type": "string", "examples": ["Is female vocalist present?"]},
                "tag": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
                },
                "clip": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "path": {"type": "string"},
                        "duration": {"type": ["number", "null"]},
                    },
                },
                "reveal_label": {
                    "enum": ["after_listen", "on_key"],
                    "description": "When a page should ask `reveal_url` for the current label: after "
                    "the annotator has listened, or only on their request.",
                },
                "reveal_url": {
                    "type": "string",
                    "description": "POST: the current label and the model's belief (not in the question, "
                    "so they do not anchor the answer).",
                },
                "audio_url": {"type": "string", "description": "Supports Range requests (206)."},
                "spectrogram_url": {"type": "string", "description": "PNG of the log-mel spectrogram."},
                "spectrogram_frames_per_second": {
                    "type": "number",
                    "description": "Feature frames per second; the picture spans the whole clip, one column a "
                    "frame up to 4096 columns (a longer clip's frames are pooled).",
                },
                "lease_expires_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "MaybeItem": {"oneOf": [_ref("Item"), {"type": "null"}]},
        "Revealed": {
            "type": "object",
            "required": ["item_id", "given", "probability"],
            "properties": {
                "item_id": {"type": "integer"},
                "given": {"type": "boolean", "description": "The label as it stands (before this review)."},
                "probability": {"type": ["number", "null"], "description": "The model's P(present)."},
            },
        },
        "Empty": {"type": "object", "additionalProperties": False},
        "ClaimRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "dataset": {
                    "type": "string",
                    "maxLength": 100,
                    "description": "Only this dataset's queue (default: all).",
                },
                "exclude": {
                    "type": "array",
                    "items": _ref("Id"),
                    "maxItems": 10,
                    "description": "Items already on screen: fetch the one after them (prefetch).",
                },
            },
        },
        "SubmitRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["decision"],
            "properties": {
                "decision": {"enum": ["present", "absent", "unsure"]},
                "next": {"type": "boolean", "description": "Also claim the next item and return it."},
                "dataset": {"type": "string", "maxLength": 100},
                "exclude": {"type": "array", "items": _ref("Id"), "maxItems": 10},
            },
        },
        "SkipRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "next": {"type": "boolean"},
                "dataset": {"type": "string", "maxLength": 100},
                "exclude": {"type": "array", "items": _ref("Id"), "maxItems": 10},
            },
        },
        "Id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        "Claim": {"type": "object", "required": ["item"], "properties": {"item": _ref("MaybeItem")}},
        "Submitted": {
            "type": "object",
            "required": ["review", "item_status"],
            "properties": {
                "review": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "item_id": {"type": "integer"},
                        "decision": {"type": "string"},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
                "item_status": {"enum": ["open", "resolved", "superseded"]},
                "resolution": {"type": ["boolean", "null"]},
                "next": _ref("MaybeItem"),
            },
        },
        "Skipped": {
            "type": "object",
            "required": ["skipped"],
            "properties": {"skipped": {"type": "integer"}, "next": _ref("MaybeItem")},
        },
        "Renewed": {"type": "object", "required": ["renewed"], "properties": {"renewed": {"type": "boolean"}}},
        "Tally": {
            "type": "object",
            "required": ["reviewed_today", "remaining"],
            "properties": {"reviewed_today": {"type": "integer"}, "remaining": {"type": "integer"}},
        },
        "History": {
            "type": "object",
            "required": ["reviews"],
            "properties": {
                "reviews": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "review_id": {"type": "integer"},
                            "item_id": {"type": "integer"},
                            "dataset": {"type": "string"},
                            "clip": {"type": "string"},
                            "tag": {"type": "string"},
                            "decision": {"type": "string"},
                            "at": {"type": "string", "format": "date-time"},
                            "item_status": {"type": "string"},
                            "resolution": {"type": ["boolean", "null"]},
                        },
                    },
                }
            },
        },
    },
}

PATHS = {
    "/api/review/claim": {
        "post": {
            "summary": "Lease the next question (the one already held first).",
            **_WRITE,
            "requestBody": _body("ClaimRequest"),
            "responses": {
                "200": _json("Claim", "The item, or null when nothing is left for you"),
                **_errors(400, 401, 403, 409),
            },
        }
    },
    "/api/review/items/{item_id}/renew": {
        "post": {
            "summary": "Extend your lease on the item (pages call this while open).",
            **_WRITE,
            "parameters": _ITEM_ID,
            "requestBody": _body("Empty"),
            "responses": {
                "200": _json("Renewed", "false when the lease had lapsed"),
                **_errors(400, 401, 403, 404, 409),
            },
        }
    },
    "/api/review/items/{item_id}/reveal": {
        "post": {
            "summary": "The item's current label and the model's belief, for its holder (or a past reviewer).",
            **_WRITE,
            "parameters": _ITEM_ID,
            "requestBody": _body("Empty"),
            "responses": {"200": _json("Revealed", "The label"), **_errors(400, 401, 403, 404, 409)},
        }
    },
    "/api/review/items/{item_id}/submit": {
        "post": {
            "summary": "Answer the item; the same answer twice counts once.",
            **_WRITE,
            "parameters": _ITEM_ID,
            "requestBody": {**_body("SubmitRequest"), "required": True},
            "responses": {"200": _json("Submitted", "Recorded"), **_errors(400, 401, 403, 404, 409, 413)},
        }
    },
    "/api/review/items/{item_id}/skip": {
        "post": {
            "summary": "Give the item back unanswered; it is not offered to you again.",
            **_WRITE,
            "parameters": _ITEM_ID,
            "requestBody": _body("SkipRequest"),
            "responses": {"200": _json("Skipped", "Skipped"), **_errors(400, 401, 403, 404, 409)},
        }
    },
    "/api/review/undo": {
        "post": {
            "summary": "Take back your latest answer; the item is yours again.",
            **_WRITE,
            "requestBody": _body("Empty"),
            "responses": {"200": _json("Claim", "The item brought back, or null"), **_errors(400, 401, 403, 409)},
        }
    },
    "/api/review/tally": {
        "get": {
            "summary": "Your reviews today and the open items still waiting for your answer.",
            "security": [{"session": []}],
            "responses": {"200": _json("Tally", "Counts"), **_errors(401, 403)},
        }
    },
    "/api/review/history": {
        "get": {
            "summary": "Your own reviews, newest first.",
            "security": [{"session": []}],
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                },
                {
                    "name": "before",
                    "in": "query",
                    "schema": _ref("Id"),
                    "description": "Only reviews with a smaller review_id (paging).",
                },
            ],
            "responses": {"200": _json("History", "Reviews"), **_errors(400, 401, 403)},
        }
    },
    "/api/schema.json": {
        "get": {"summary": "This document.", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}
    },
}


def schema(server_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Label Auditor review API",
            "version": "1",
            "description": "Claim (clip, tag) questions, answer them, skip, undo; your tally and history.",
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "paths": PATHS,
        "components": COMPONENTS,
    }
