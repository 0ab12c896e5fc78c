from civicpulse.alembic_env import run
from services.review.db import metadata

run(metadata)
