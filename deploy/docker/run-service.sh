#!/bin/sh
# Default command of the CivicPulse image: run the service named by $1 or $CIVICPULSE_SERVICE.
#   docker run ... civicpulse news
# is the same as
#   nameko run --config services/news/config/nameko.yaml services.news.service:NewsService
# through `python -m civicpulse.serve` (nameko's run without dependency deprecation noise).
set -eu
svc="${1:-${CIVICPULSE_SERVICE:-}}"
case "$svc" in
  news) cls=NewsService ;;
  review) cls=ReviewService ;;
  sentiment) cls=SentimentService ;;
  liaison) cls=LiaisonService ;;
  notify) cls=NotifyService ;;
  identity) cls=IdentityService ;;
  console) cls=ConsoleService ;;
  *) echo "usage: run-service.sh news|review|sentiment|liaison|notify|identity|console (or set CIVICPULSE_SERVICE)" >&2
     exit 64 ;;
esac
exec python -m civicpulse.serve --config "services/$svc/config/nameko.yaml" "services.$svc.service:$cls"
