#!/usr/bin/env bash
# Starts the RT instance that test/rt/setup-rt.sh built, on 127.0.0.1:<port>,
# waits until REST 2 answers with the gateway's token, and writes the URL and
# tokens to $RT_ENV_FILE (default $RT_DIR/rt.env). Idempotent: a server already
# running on that port is reused. Needs root (the server runs as www-data).
#
#   test/rt/start-rt.sh [--fresh] [port]   port: default $RT_PORT or 18090
#     --fresh  reset the DB to the state setup-rt.sh left (no tickets) first
#   test/rt/stop-rt.sh
set -euo pipefail

RT_DIR=${RT_DIR:-/var/tmp/andon-rt}
fresh=0
if [ "${1:-}" = --fresh ]; then fresh=1; shift; fi
port=${1:-${RT_PORT:-18090}}
RT_ENV_FILE=${RT_ENV_FILE:-$RT_DIR/rt.env}
here=$(cd "$(dirname "$0")" && pwd)
pidfile="$RT_DIR/rt-server.pid"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms)

RT_DIR=$RT_DIR "$here/setup-rt.sh" --check || { echo "start-rt.sh: RT is not set up; run test/rt/setup-rt.sh" >&2; exit 1; }
RT_QUEUE=$(sed -n 's/^RT_QUEUE=//p' "$RT_DIR/instance.env")
token=$(cat "$RT_DIR/tokens/gateway")

# HTTP status of GET /REST/2.0/rt with the gateway's token, without curl (bash /dev/tcp).
status() {
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || { echo 000; return; }
  printf 'GET /REST/2.0/rt HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: token %s\r\n\r\n' "$token" >&3
  read -r -t 5 line <&3 || line=""
  exec 3>&- 3<&-
  line=${line#HTTP/* }; echo "${line%% *}"
}
running() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
write_env() {
  local tmp="$RT_ENV_FILE.tmp.$$"
  mkdir -p "$(dirname "$RT_ENV_FILE")"
  {
    echo "RT_URL=http://127.0.0.1:$port"
    echo "RT_TOKEN=$token"
    echo "RT_OPERATOR_TOKEN=$(cat "$RT_DIR/tokens/operator")"
    echo "RT_QUEUE=$RT_QUEUE"
    echo "RT_PID=$(cat "$pidfile")"
    echo "RT_DIR=$RT_DIR"
  } > "$tmp"
  mv "$tmp" "$RT_ENV_FILE"
}

if [ $fresh = 0 ] && running && [ "$(cat "$RT_DIR/rt-server.port" 2>/dev/null)" = "$port" ] && [ "$(status)" = 200 ]; then
  write_env
  echo "== RT already running at http://127.0.0.1:$port (pid $(cat "$pidfile")); env in $RT_ENV_FILE"
  exit 0
fi
"$here/stop-rt.sh"
if [ "$(status)" != 000 ]; then echo "start-rt.sh: port $port is taken by another process" >&2; exit 1; fi
if [ $fresh = 1 ]; then
  cp "$RT_DIR/data/rt.db.pristine" "$RT_DIR/data/rt.db"
  rm -f "$RT_DIR/data/rt.db-journal" "$RT_DIR/data/rt.db-wal" "$RT_DIR/data/rt.db-shm"
  chown www-data:www-data "$RT_DIR/data/rt.db"
fi
printf "Set(\$WebPort, %s);\nSet(\$WebBaseURL, 'http://127.0.0.1:%s');\n" "$port" "$port" > "$RT_DIR/conf.d/60-port.pm"
echo "$port" > "$RT_DIR/rt-server.port"

# setsid: the server gets its own process group, so stop-rt.sh stops master and workers together.
setsid setpriv --reuid=www-data --regid=www-data --init-groups env RT_SITE_CONFIG="$RT_DIR/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$RT_DIR/conf.d" \
  /usr/share/request-tracker5/libexec/rt-server --host 127.0.0.1 --port "$port" --max-workers "${RT_WORKERS:-4}" \
  < /dev/null > "$RT_DIR/rt-server.log" 2>&1 &
echo $! > "$pidfile"

for _ in $(seq 600); do
  code=$(status)
  [ "$code" = 200 ] && break
  if ! running; then echo "start-rt.sh: rt-server exited; log:" >&2; tail -20 "$RT_DIR/rt-server.log" >&2; exit 1; fi
  sleep 0.1
done
[ "$code" = 200 ] || { echo "start-rt.sh: no answer from RT on port $port after 60 s (last status $code)" >&2; "$here/stop-rt.sh"; exit 1; }
write_env
d=$(( $(ms) - t0 ))
echo "== RT started at http://127.0.0.1:$port in $((d / 1000)).$(printf %03d $((d % 1000))) s (pid $(cat "$pidfile")); env in $RT_ENV_FILE"
