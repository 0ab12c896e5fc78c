from civicpulse.alembic_env import run
from services.sentiment.db import metadata

run(metadata)
