"""Daily and weekly opinion digests: built from the aggregates (`build`), rendered as JSON,
Markdown or a PNG chart (`render`), served over HTTP (`http`) and by `civicpulse sentiment
report` (`commands`)."""
