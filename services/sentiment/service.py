"""Sentiment service: nameko entrypoints only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nameko.rpc import rpc
from nameko.timer import timer
from nameko.web.handlers import http

from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.web import BadRequest, json_api, load_json
from services.sentiment import config, handlers
from services.sentiment.schemas import MAX_BATCH, MentionSchema

MIGRATIONS = Path(__file__).parent / "migrations"


class SentimentService(OperationsEndpoints):
    name = "sentiment"
    platform = Platform("sentiment", MIGRATIONS)

    @http("POST", "/mentions")
    @json_api
    def post_mentions(self, request: Any) -> tuple[int, dict[str, Any]]:
        body = load_json(request)
        if not isinstance(body, list) or not 1 <= len(body) <= MAX_BATCH:
            raise BadRequest(f"body must be a JSON array of 1..{MAX_BATCH} mentions")
        valid, rejected = [], []
        for i, item in enumerate(body):
            errors = MentionSchema().validate(item) if isinstance(item, dict) else {"_": "object"}
            if errors:
                rejected.append({"index": i, "errors": errors})
            else:
                valid.append(MentionSchema().load(item))
        cfg = config.load()
        summary = handlers.ingest(self.platform.uow(), valid, topics=cfg.topics, rule=cfg.rule,
                                  key=cfg.pseudonym_key) if valid else {
            "accepted": 0, "duplicates": 0, "incidents": []}
        return (202 if valid else 400), {**summary, "rejected": rejected}

    @http("GET", "/incidents")
    @json_api
    def get_incidents(self, request: Any) -> dict[str, Any]:
        return {"incidents": handlers.list_incidents(self.platform.uow())}

    @rpc
    def incidents(self) -> list[dict[str, Any]]:
        return [{**i, "detected_at": str(i["detected_at"]), "updated_at": str(i["updated_at"])}
                for i in handlers.list_incidents(self.platform.uow())]

    @timer(interval=30)
    def sweep_subsided(self) -> None:
        handlers.sweep_subsided(self.platform.uow(), config.load().rule)
