#!/usr/bin/env bash
# A development CA and a RabbitMQ server certificate for the partner TLS listener (5671).
#   scripts/dev-tls-certs.sh [DIR] [HOST...]     default: deploy/rabbitmq/tls localhost rabbitmq
# Writes ca.pem (give it to partner agencies: CIVICPULSE_PARTNER_TLS_CA), ca.key (keep it
# private), server.pem, server.key. Production uses a certificate from the office's CA for the
# broker's public host name instead; the file names stay the same.
set -euo pipefail
dir="${1:-deploy/rabbitmq/tls}"; shift || true
hosts=("${@:-localhost}"); [ $# -eq 0 ] && hosts=(localhost rabbitmq)
mkdir -p "$dir"; cd "$dir"
san=$(printf 'DNS:%s,' "${hosts[@]}"); san="${san%,}"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 825 -subj "/CN=CivicPulse dev CA" 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=${hosts[0]}" 2>/dev/null
printf 'subjectAltName=%s\n' "$san" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
  -days 825 -extfile server.ext 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 644 ca.pem server.pem server.key   # the broker runs as another user in its container
echo "wrote $dir/{ca.pem,ca.key,server.pem,server.key} for ${hosts[*]}"
