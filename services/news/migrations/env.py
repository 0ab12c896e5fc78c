from civicpulse.alembic_env import run
from services.news.db import metadata

run(metadata)
