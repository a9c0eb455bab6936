#!/usr/bin/env bash
# Stops the RT server that test/rt/start-rt.sh started (its pid file only). Idempotent.
set -euo pipefail
RT_DIR=${RT_DIR:-/var/tmp/andon-rt}
pidfile="$RT_DIR/rt-server.pid"
[ -s "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  # start-rt.sh runs the server under setsid: its pid is also its process group (master + workers).
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  kill -CONT -- "-$pid" 2>/dev/null || true   # a server paused with SIGSTOP (a test) must run to exit
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
