#!/bin/bash
# make demo: a manager on its embedded SQLite plus three agents on loopback.
# Everything lives in ./demo-state (recreated on every run) and stops on Ctrl-C.
set -euo pipefail

BIN=$(cd "${1:-build/bin}" && pwd)
DEMO=${DEMO_DIR:-$PWD/demo-state}
AGENT_PORT=${DEMO_AGENT_PORT:-4120}
API_PORT=${DEMO_API_PORT:-4119}
INTERVAL=${DEMO_HEARTBEAT_INTERVAL:-10}
pids=()

cleanup() {
	trap - INT TERM EXIT
	echo
	echo "demo: stopping the agents and the manager"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "demo: stopped; logs and state stay in $DEMO"
}
trap cleanup INT TERM EXIT

port_busy() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
for p in "$AGENT_PORT" "$API_PORT"; do
	if port_busy "$p"; then
		echo "demo: port $p on 127.0.0.1 is in use (another manager?); stop it or set DEMO_AGENT_PORT/DEMO_API_PORT" >&2
		exit 1
	fi
done

rm -rf "$DEMO"
mkdir -p "$DEMO"
chmod 700 "$DEMO"
cat >"$DEMO/manager.conf" <<CONF
[manager]
state_dir = $DEMO/manager
[listen]
address = 127.0.0.1
agent_port = $AGENT_PORT
api_port = $API_PORT
[policy]
heartbeat_interval = $INTERVAL
missed_heartbeats_allowed = 2
CONF

echo "demo: starting vigil-manager (state in $DEMO/manager, log in $DEMO/manager.log)"
"$BIN/vigil-manager" -c "$DEMO/manager.conf" >"$DEMO/manager.out" 2>"$DEMO/manager.log" &
pids+=($!)
for _ in $(seq 1 100); do
	grep -q "CA fingerprint" "$DEMO/manager.out" 2>/dev/null && [ -f "$DEMO/manager/manager.json" ] && break
	kill -0 "${pids[0]}" 2>/dev/null || { cat "$DEMO/manager.log" >&2; exit 1; }
	sleep 0.1
done
token=$(awk '/activation token:/ {print $3}' "$DEMO/manager.out")
apikey=$(awk '/API key:/ {print $3}' "$DEMO/manager.out")
fpr=$(awk '/CA fingerprint:/ {print $3}' "$DEMO/manager.out")
umask 077
printf '%s\n' "$apikey" >"$DEMO/api-key"
cat >"$DEMO/vigilctl.env" <<ENV
export VIGIL_URL=https://127.0.0.1:$API_PORT
export VIGIL_CA=$DEMO/manager/ca.crt
export VIGIL_API_KEY_FILE=$DEMO/api-key
ENV

for n in 1 2 3; do
	name="demo-agent-$n"
	dir="$DEMO/$name"
	# each on a free agent port of its own, on loopback
	"$BIN/vigil-agent" -d "$dir" --listen-address 127.0.0.1 --listen-port 0 2>"$DEMO/$name.log" &
	pids+=($!)
	for _ in $(seq 1 50); do [ -S "$dir/agent.sock" ] && break; sleep 0.1; done
	"$BIN/vigil-agentctl" -d "$dir" activate "https://127.0.0.1:$AGENT_PORT/" "token:$token" \
		"hostname:$name" "description:Vigil demo agent $n" --ca-fingerprint "$fpr"
done

# shellcheck disable=SC1091
. "$DEMO/vigilctl.env"
for _ in $(seq 1 100); do
	n=$("$BIN/vigilctl" computers --json 2>/dev/null | grep -c '"Managed (Online)"' || true)
	[ "$n" -ge 3 ] && break
	sleep 0.1
done
echo
"$BIN/vigilctl" computers
cat <<MSG

The manager and three agents are running.  In another terminal:

  . $DEMO/vigilctl.env
  $BIN/vigilctl computers
  $BIN/vigilctl events
  $BIN/vigilctl alerts

Stop an agent (kill \$(pgrep -f $DEMO/demo-agent-2)) and within $((INTERVAL * 3)) s it shows
"Managed (Offline)" with event 730 and the alert "Computer offline".
Activation token: $token   (agents: vigil-agentctl activate https://127.0.0.1:$AGENT_PORT/ token:... --ca-fingerprint $fpr)

Press Ctrl-C to stop.
MSG
wait
