"""Sentiment configuration: topics and detection thresholds (YAML), validated at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from marshmallow import Schema, fields, validate

from services.sentiment.domain import LEVEL_ORDER, DetectionRule

HERE = Path(__file__).parent


class _Detection(Schema):
    window_minutes = fields.Integer(required=True, validate=validate.Range(min=1))
    min_negative = fields.Integer(required=True, validate=validate.Range(min=1))
    min_negative_ratio = fields.Float(required=True, validate=validate.Range(0, 1))
    levels = fields.Dict(keys=fields.String(validate=validate.OneOf(LEVEL_ORDER)),
                         values=fields.Integer(validate=validate.Range(min=1)), required=True)


class _Config(Schema):
    topics = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         required=True)
    detection = fields.Nested(_Detection, required=True)


@dataclass(frozen=True)
class SentimentConfig:
    topics: dict[str, list[str]]
    rule: DetectionRule
    pseudonym_key: bytes


@cache
def load(path: str | None = None) -> SentimentConfig:
    file = Path(path or os.environ.get("SENTIMENT_CONFIG", HERE / "topics.yaml"))
    data = _Config().load(yaml.safe_load(file.read_text(encoding="utf-8")))
    det = data["detection"]
    if set(det["levels"]) != set(LEVEL_ORDER):
        raise ValueError(f"{file}: detection.levels must name all of {LEVEL_ORDER}")
    key = os.environ.get("SENTIMENT_PSEUDONYM_KEY", "civicpulse-dev-key-change-me").encode()
    return SentimentConfig(data["topics"], DetectionRule(**det), key)
