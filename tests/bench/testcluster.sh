#!/usr/bin/env bash
# How fast tests/testcluster answers on loopback, so that benchmarks of
# tollgate know the server is not their bottleneck. Prints a table.
#   TG_BUILD_DIR=build tests/bench/testcluster.sh [CONCURRENCY]
# Uses ab (apache2-utils) for GET and LIST, and the system python for
# server-side apply (PATCH with a body), one keep-alive connection per
# client process.
. "$(dirname "$0")/../lib/common.sh"
. "$TG_SOURCE_DIR/tests/lib/testcluster.sh"

conc=${1:-4}
tc_start
ns=/api/v1/namespaces/default
echo "seeding 500 ConfigMaps..."
/usr/bin/python3 - "$TC_URL" <<'PY'
import http.client, json, sys
h, p = sys.argv[1].split("//")[1].split(":")
c = http.client.HTTPConnection(h, int(p))
for i in range(500):
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "cm%d" % i,
                                    "labels": {"group": "g%d" % (i % 10)}},
                       "data": {"k": "v" * 200}})
    c.request("POST", "/api/v1/namespaces/default/configmaps", body,
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
PY

rate() { # ab output -> requests per second
	grep -E '^Requests per second' | awk '{print $4}'
}
get=$(ab -q -k -c "$conc" -n 20000 "$TC_URL$ns/configmaps/cm1" | rate)
list=$(ab -q -k -c "$conc" -n 2000 "$TC_URL$ns/configmaps?labelSelector=group%3Dg3" | rate)
apply=$(/usr/bin/python3 - "$TC_URL" "$conc" <<'PY'
import http.client, json, multiprocessing, sys, time
h, p = sys.argv[1].split("//")[1].split(":")
n = 1000
def worker(w):
    c = http.client.HTTPConnection(h, int(p))
    for i in range(n):
        name = "d%d-%d" % (w, i % 50)
        body = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app",
                                      "image": "registry.example/app:%d" % i,
                                      "ports": [{"containerPort": 8080}]}]}}}})
        c.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/%s"
                  "?fieldManager=tollgate&force=true" % name, body,
                  {"Content-Type": "application/apply-patch+yaml"})
        r = c.getresponse(); r.read()
        assert r.status in (200, 201), r.status
conc = int(sys.argv[2])
t = time.monotonic()
ps = [multiprocessing.Process(target=worker, args=(w,)) for w in range(conc)]
[x.start() for x in ps]
[x.join() for x in ps]
print("%.0f" % (conc * n / (time.monotonic() - t)))
PY
)
printf '| operation (concurrency %s) | requests/s |\n|---|---|\n' "$conc"
printf '| GET one ConfigMap | %s |\n' "$get"
printf '| LIST 50 of 500 ConfigMaps by label | %s |\n' "$list"
printf '| server-side apply of a Deployment | %s |\n' "$apply"
tc_stop_check >/dev/null
