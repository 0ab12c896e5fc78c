#!/bin/sh
# Default command of the CivicPulse image: run the service named by $1 or $CIVICPULSE_SERVICE.
#   docker run ... civicpulse news
# is the same as
#   nameko run --config services/news/config/nameko.yaml services.news.service:NewsService
set -eu
svc="${1:-${CIVICPULSE_SERVICE:-}}"
case "$svc" in
  news) cls=NewsService ;;
  review) cls=ReviewService ;;
  sentiment) cls=SentimentService ;;
  liaison) cls=LiaisonService ;;
  notify) cls=NotifyService ;;
  identity) cls=IdentityService ;;
  *) echo "usage: run-service.sh news|review|sentiment|liaison|notify|identity (or set CIVICPULSE_SERVICE)" >&2
     exit 64 ;;
esac
exec nameko run --config "services/$svc/config/nameko.yaml" "services.$svc.service:$cls"
