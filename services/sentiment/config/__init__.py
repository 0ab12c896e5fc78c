"""Sentiment configuration (YAML, validated at start): topics, detection thresholds, channels,
feed sources, retention. `SENTIMENT_CONFIG` points at another file; the timers' intervals come
from here too (civicpulse.settings declares the variables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from marshmallow import Schema, fields, validate

from civicpulse import production, settings
from civicpulse.config_files import read_yaml
from services.sentiment.detection import DetectorConfig
from services.sentiment.domain import LEVEL_ORDER

HERE = Path(__file__).parent


class _Detection(Schema):
    window_minutes = fields.Integer(required=True, validate=validate.Range(min=1))
    long_window_minutes = fields.Integer(load_default=30, validate=validate.Range(min=0))
    min_negative = fields.Integer(required=True, validate=validate.Range(min=1))
    min_negative_ratio = fields.Float(required=True, validate=validate.Range(0, 1))
    floor_negative = fields.Integer(load_default=10, validate=validate.Range(min=1))
    warmup_minutes = fields.Integer(load_default=180, validate=validate.Range(min=0))
    ewma_alpha = fields.Float(load_default=0.02, validate=validate.Range(0, 1,
                                                                         min_inclusive=False))
    k_sigma = fields.Float(load_default=4.0, validate=validate.Range(min=0))
    tail_probability = fields.Float(load_default=1e-5, validate=validate.Range(
        0, 0.5, min_inclusive=False))
    subside_fraction = fields.Float(load_default=0.5, validate=validate.Range(0, 1))
    ratio_hysteresis = fields.Float(load_default=0.15, validate=validate.Range(0, 1))
    close_after_minutes = fields.Integer(load_default=30, validate=validate.Range(min=0))
    cooldown_minutes = fields.Integer(load_default=60, validate=validate.Range(min=0))
    levels = fields.Dict(keys=fields.String(validate=validate.OneOf(LEVEL_ORDER)),
                         values=fields.Integer(validate=validate.Range(min=1)), required=True)


class _Feed(Schema):
    url = fields.String(required=True)
    channel = fields.String(load_default="feed")


class _Config(Schema):
    topics = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         required=True)
    topic_names = fields.Dict(keys=fields.String(), values=fields.String(
        validate=validate.Length(min=1, max=64)), load_default=dict)
    detection = fields.Nested(_Detection, required=True)
    channels = fields.Dict(keys=fields.String(), values=fields.String(),
                           load_default=lambda: {"web": "web"})
    feeds = fields.Dict(keys=fields.String(), values=fields.Nested(_Feed), load_default=dict)
    feed_poll_seconds = fields.Integer(load_default=300, validate=validate.Range(min=5))
    retention_days = fields.Integer(load_default=90, validate=validate.Range(min=1))


@dataclass(frozen=True)
class SentimentConfig:
    topics: dict[str, list[str]]
    detector: DetectorConfig
    pseudonym_key: bytes
    channels: dict[str, str]
    feeds: dict[str, dict[str, str]]
    feed_poll_seconds: int
    retention_days: int
    topic_names: dict[str, str] = field(default_factory=dict)

    def topic_name(self, topic: str) -> str:
        """The topic's human name (`topic_names` in topics.yaml); a #hashtag# topic is its
        own name."""
        return self.topic_names.get(topic, topic)
    incident_sweep_seconds: float = 30.0
    purge_seconds: float = 3600.0


def load(path: str | None = None) -> SentimentConfig:
    """The configuration now (the YAML is parsed once per file content: civicpulse.config)."""
    file = Path(path or settings.config_file("SENTIMENT_CONFIG", HERE / "topics.yaml"))
    data = read_yaml(file, _Config)
    det = data["detection"]
    if set(det["levels"]) != set(LEVEL_ORDER):
        raise ValueError(f"{file}: detection.levels must name all of {LEVEL_ORDER}")
    if [det["levels"][lv] for lv in LEVEL_ORDER] != sorted(det["levels"].values()):
        raise ValueError(f"{file}: detection.levels must rise from IV to I")
    for name, feed in data["feeds"].items():
        if feed["channel"] not in data["channels"]:
            raise ValueError(f"{file}: feed {name} uses unknown channel {feed['channel']!r}")
    unknown = sorted(set(data["topic_names"]) - set(data["topics"]))
    if unknown:
        raise ValueError(f"{file}: topic_names names unknown topics {unknown}")
    key = production.secret("SENTIMENT_PSEUDONYM_KEY").encode()
    return SentimentConfig(data["topics"], DetectorConfig(**det), key, data["channels"],
                           data["feeds"], data["feed_poll_seconds"], data["retention_days"],
                           data["topic_names"],
                           incident_sweep_seconds=settings.value(
                               "SENTIMENT_INCIDENT_SWEEP_SECONDS"),
                           purge_seconds=settings.value("SENTIMENT_PURGE_SECONDS"))
