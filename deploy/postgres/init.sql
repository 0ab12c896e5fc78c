-- Run once by the postgres image on an empty data directory
-- (/docker-entrypoint-initdb.d). One database per service: a service never reads another's.
CREATE DATABASE civicpulse_news;
CREATE DATABASE civicpulse_review;
CREATE DATABASE civicpulse_sentiment;
CREATE DATABASE civicpulse_liaison;
CREATE DATABASE civicpulse_notify;
CREATE DATABASE civicpulse_identity;
