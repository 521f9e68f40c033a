#!/usr/bin/env bash
# Soak (issue 19): tollgate run for MINUTES (default 60) against the real
# components, a cycle every ${SOAK_INTERVAL:-2s}, the deploy repository
# changing every third cycle (the web image tag, a ConfigMap's data) and
# drift made by kubectl every cycle (replicas scaled, a label edited).
# Samples the agent's RSS, open file descriptors and CPU time after each
# cycle (tollgate_cycles_total from /metrics) and prints the first and
# last ten cycles, then the growth after warm-up (the first 10% of the
# cycles, at least 5):
#   soak: RSS 14.2 MB -> 14.3 MB after warm-up (+0.7%), fds 21 -> 21,
#         CPU 35 ms per cycle
# Exits non-zero when RSS grew 5% or more after warm-up, when descriptors
# grew, or when the agent died. The agent is stopped with SIGTERM at the
# end and its log must hold no sanitizer report. Under ASan
# (TG_BUILD_DIR=build-san; TG_BIN/TC_BIN name other binaries) RSS growth is
# not judged (the allocator's quarantine fills first); a leak shows in the
# log at exit and is printed.
#
#   tests/bench/soak.sh [MINUTES]
. "$(cd "$(dirname "$0")/.." && pwd)/lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/run.sh"

minutes=${1:-60}
run_world 1.0 2.0
sed -i "s/interval: 1h/interval: ${SOAK_INTERVAL:-2s}/" "$W_CONFIG"
run_shop
write_config() {
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: round, namespace: shop}\ndata: {round: "%s"}\n' "$1" >"$P/shop/round.yaml"
}
write_config 0
run_web 1.0 >/dev/null
agent_start a
pid=$AGENT_PID_a
port=$AGENT_PORT_a
hz=$(getconf CLK_TCK)
out=$TT_TMP/soak.tsv
printf 'cycle\tseconds\trss_kb\tfds\tcpu_ms\n' >"$out"
start=$(date +%s)
deadline=$((start + minutes * 60))
last=0 change=0
cycles() { metric "$port" 'tollgate_cycles_total{result="success"}'; }
while [ "$(date +%s)" -lt "$deadline" ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "soak: the agent died; its log ends:" >&2
		tail -20 "$TT_TMP/agent-a.log" >&2
		exit 1
	fi
	n=$(cycles 2>/dev/null || echo absent)
	if [ "$n" = absent ] || [ "$n" -le "$last" ]; then
		sleep 0.2
		continue
	fi
	last=$n
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	read -r ut st < <(awk '{print $14, $15}' "/proc/$pid/stat")
	printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$(($(date +%s) - start))" "$rss" \
		"$fds" $(((ut + st) * 1000 / hz)) >>"$out"
	# Drift by kubectl every cycle; a commit every third.
	kc scale deployment web -n shop --replicas=$((n % 3 + 3)) >/dev/null 2>&1 || true
	kc label configmap round -n shop --overwrite "soak=$n" >/dev/null 2>&1 || true
	if [ $((n % 3)) -eq 0 ]; then
		change=$((change + 1))
		write_config "$change"
		if [ $((change % 2)) -eq 1 ]; then
			run_web 2.0 >/dev/null
		else
			run_web 1.0 >/dev/null
		fi
	fi
done

# Under ASan the allocator's quarantine (256 MB) fills first: RSS says
# nothing there, and the verdict is the leak check at the agent's exit.
asan=0
if ldd "$TG_BIN" 2>/dev/null | grep -q libasan; then
	asan=1
fi
rc=0
python3 - "$out" "$asan" <<'PY' || rc=$?
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
rows = [[int(x) for x in r] for r in rows]
if len(rows) < 10:
    print("soak: only %d cycles" % len(rows)); sys.exit(1)
print("%7s %8s %9s %5s %9s" % ("cycle", "seconds", "RSS kB", "fds", "CPU ms"))
for r in rows[:10] + [None] + rows[-10:]:
    print("    ..." if r is None else "%7d %8d %9d %5d %9d" % tuple(r))
warm = max(5, len(rows) // 10)
w, e = rows[warm], rows[-1]
growth = 100.0 * (e[2] - w[2]) / w[2]
cpu = (e[4] - w[4]) / max(1, e[0] - w[0])
print("soak: %d cycles in %d s; RSS %.1f MB -> %.1f MB after warm-up "
      "(%+.1f%%), fds %d -> %d, CPU %.0f ms per cycle"
      % (e[0], e[1], w[2] / 1024, e[2] / 1024, growth, w[3], e[3], cpu))
if sys.argv[2] == "1":
    print("soak: under ASan the RSS growth is not judged (quarantine)")
    growth = 0
sys.exit(0 if growth < 5 and e[3] <= w[3] else 1)
PY
agent_stop a
if [ "$asan" = 1 ] && grep -q Sanitizer "$TT_TMP/agent-a.log"; then
	grep -A12 -E 'ERROR: (Address|Leak)Sanitizer|runtime error' \
		"$TT_TMP/agent-a.log" | head -60 >&2
fi
if [ "$TT_FAILED" -ne 0 ]; then
	rc=1
fi
exit $rc
