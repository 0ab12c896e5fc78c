#!/bin/sh
# The RabbitMQ container's entrypoint (docker-compose.yml): starts the node, which imports
# definitions.json (its users carry no password), then sets each CivicPulse user's password from
# RABBITMQ_<USER>_PASSWORD. A missing variable stops the node: no user keeps an empty or a
# default password. Passwords are set again on every start, so rotating one is: change the
# variable, restart the broker and the service that uses it (docs/security.md).
set -eu
USERS="admin news review sentiment liaison notify identity console collector"
READY=/tmp/civicpulse-passwords-set
rm -f "$READY"
for user in $USERS; do
    var="RABBITMQ_$(echo "$user" | tr '[:lower:]' '[:upper:]')_PASSWORD"
    eval "value=\${$var:-}"
    if [ -z "$value" ]; then
        echo "set-passwords: $var is not set; refusing to start the broker" >&2
        exit 1
    fi
done
docker-entrypoint.sh rabbitmq-server &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
rabbitmqctl -q await_startup
for user in $USERS; do
    var="RABBITMQ_$(echo "$user" | tr '[:lower:]' '[:upper:]')_PASSWORD"
    eval "value=\${$var}"
    rabbitmqctl -q change_password "$user" "$value"
done
touch "$READY"
echo "set-passwords: passwords set for: $USERS"
wait "$server"
