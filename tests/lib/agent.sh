# Helpers for tests of `tollgate run` (source after world.sh).
#   agent_start NAME [ARGS...]   start tollgate run with a copy of $W_CONFIG
#                                (its own stateDir) in the
#                                background on a free port: sets
#                                AGENT_PID_<NAME>, AGENT_PORT_<NAME>, log in
#                                $TT_TMP/agent-NAME.log
#   wait_until SECONDS CMD...    retry CMD every 0.2 s until it succeeds;
#                                status 1 when it never did (a deadline for
#                                waiting, not a timing assertion)
#   metric PORT SERIES           the value of one series from /metrics

agent_start() {
	local name=$1 port
	shift
	port=$(tt_free_port)
	# Each agent has its own stateDir, as each replica has its own volume.
	mkdir -p "$TT_TMP/state-$name"
	sed "s|^stateDir: .*|stateDir: $TT_TMP/state-$name|" "$W_CONFIG" \
		>"$TT_TMP/agent-$name.yaml"
	tt_bg "$TT_TMP/agent-$name.log" "$TG_BIN" run \
		--config "$TT_TMP/agent-$name.yaml" \
		--listen-addr "127.0.0.1:$port" --health-timeout 5 "$@"
	printf -v "AGENT_PID_$name" '%s' "$TT_LAST_PID"
	printf -v "AGENT_PORT_$name" '%s' "$port"
	tt_wait_port "$port" 30
}

wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 5; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

metric() {
	curl -sf "http://127.0.0.1:$1/metrics" |
		awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }'
}

# agent_successes PORT: the cycles that succeeded so far
agent_successes() {
	metric "$1" 'tollgate_cycles_total{result="success"}'
}

# agent_cycle_now PORT SECONDS: POST /reconcile and wait up to SECONDS for
# that cycle to end; 1 when it did not.
agent_cycle_now() {
	local port=$1 before
	before=$(agent_successes "$port")
	curl -s -X POST "http://127.0.0.1:$port/reconcile" >/dev/null
	_cycle_ended() { [ "$(agent_successes "$1")" -gt "$2" ]; }
	wait_until "$2" _cycle_ended "$port" "$before"
}

# ready PORT: /readyz answers 200
ready() {
	curl -sf "http://127.0.0.1:$1/readyz"
}

# agent_stop NAME: SIGTERM and wait; sets AGENT_RC to the exit status and
# checks the log has no sanitizer report.
agent_stop() {
	local pid_var="AGENT_PID_$1"
	local pid=${!pid_var}
	kill -TERM "$pid" 2>/dev/null || true
	set +e
	wait "$pid" 2>/dev/null
	AGENT_RC=$?
	set -e
	tt_not_contains "agent $1: no sanitizer report" \
		"$(cat "$TT_TMP/agent-$1.log")" "Sanitizer"
}
