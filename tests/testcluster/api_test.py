#!/usr/bin/python3
"""HTTP-level checks of tests/testcluster: server-side apply ownership,
shared fields, removal, conflicts and forced transfer with the exact
objects and managedFields expected; patch formats; dry run; the test
controls (faults, request log, reset).

usage: api_test.py URL TOKEN
Prints "ok - ..." / "FAIL - ..." lines; exits 1 when anything failed.
"""
import json
import sys
import time

from tc_check import check, finish, request

URL, TOKEN = sys.argv[1], sys.argv[2]
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
CM = "/api/v1/namespaces/default/configmaps"
DEP = "/apis/apps/v1/namespaces/default/deployments"


def call(method, path, body=None, ctype="application/json", agent=None,
         accept=None):
    """(status, parsed body) of one request."""
    return request(URL, TOKEN, method, path, body, ctype, agent,
                   accept=accept)


def apply(path, manager, obj, force=False, extra=""):
    q = "?fieldManager=" + manager + ("&force=true" if force else "") + extra
    return call("PATCH", path + q, obj, APPLY)


def fields(obj):
    """managedFields without the volatile time, as (manager, operation,
    fieldsV1) triples."""
    return [(m["manager"], m["operation"], m["fieldsV1"])
            for m in obj["metadata"].get("managedFields", [])]


def cm(data, labels=None, name="owned"):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": data}


def ssa_ownership():
    st, o = apply(CM + "/owned", "a", cm({"x": "1", "y": "2"}, {"l": "a"}))
    check("apply creates (201)", 201, st)
    check("apply: object and owned set",
          ({"x": "1", "y": "2"},
           [("a", "Apply", {"f:data": {"f:x": {}, "f:y": {}},
                            "f:metadata": {"f:labels": {"f:l": {}}}})]),
          (o["data"], fields(o)))
    st, o = apply(CM + "/owned", "b", cm({"y": "2", "z": "3"}))
    check("equal value: shared, no conflict",
          (200, {"x": "1", "y": "2", "z": "3"},
           [("a", "Apply", {"f:data": {"f:x": {}, "f:y": {}},
                            "f:metadata": {"f:labels": {"f:l": {}}}}),
            ("b", "Apply", {"f:data": {"f:y": {}, "f:z": {}}})]),
          (st, o["data"], fields(o)))
    st, o = apply(CM + "/owned", "a", cm({"x": "1"}, {"l": "a"}))
    check("field dropped by a but owned by b stays",
          {"x": "1", "y": "2", "z": "3"}, o["data"])
    st, o = apply(CM + "/owned", "b", cm({"z": "3"}))
    check("field dropped by its last owner is removed",
          ({"x": "1", "z": "3"},
           [("a", "Apply", {"f:data": {"f:x": {}},
                            "f:metadata": {"f:labels": {"f:l": {}}}}),
            ("b", "Apply", {"f:data": {"f:z": {}}})]),
          (o["data"], fields(o)))


def ssa_conflicts():
    rv = call("GET", CM + "/owned")[1]["metadata"]["resourceVersion"]
    st, o = apply(CM + "/owned", "b", cm({"x": "9"}))
    check("conflict: 409 Status",
          (409, "Conflict",
           'Apply failed with 1 conflict: conflict with "a": .data.x',
           {"name": "owned", "kind": "configmaps",
            "causes": [{"reason": "FieldManagerConflict",
                        "message": 'conflict with "a"',
                        "field": ".data.x"}]}),
          (st, o["reason"], o["message"], o["details"]))
    check("conflict changed nothing", rv,
          call("GET", CM + "/owned")[1]["metadata"]["resourceVersion"])
    st, o = apply(CM + "/owned", "b", cm({"x": "9"}), force=True)
    check("force moves ownership; b's dropped z is removed",
          (200, {"x": "9"},
           [("a", "Apply", {"f:metadata": {"f:labels": {"f:l": {}}}}),
            ("b", "Apply", {"f:data": {"f:x": {}}})]),
          (st, o["data"], fields(o)))
    st, o = call("PATCH", CM + "/owned?fieldManager=c",
                 {"data": {"x": "10"}}, MERGE)
    check("an Update takes the fields it changes",
          (200, {"x": "10"},
           [("a", "Apply", {"f:metadata": {"f:labels": {"f:l": {}}}}),
            ("c", "Update", {"f:data": {"f:x": {}}})]),
          (st, o["data"], fields(o)))
    st, o = call("PATCH", CM + "/owned", cm({"x": "1"}), APPLY)
    check("apply needs a fieldManager",
          (422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: '
           'fieldManager: Required value: is required for apply patch'),
          (st, o["reason"], o["message"]))


def deployment(containers, name="web"):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": containers}}}}


def ssa_keyed_lists():
    st, o = apply(DEP + "/web", "a", deployment(
        [{"name": "app", "image": "app:1"}, {"name": "side",
                                              "image": "side:1"}]))
    spec_set = o["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    check("containers are keyed by name in fieldsV1",
          {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}},
           'k:{"name":"side"}': {".": {}, "f:image": {}, "f:name": {}}},
          spec_set["f:template"]["f:spec"]["f:containers"])
    st, o = apply(DEP + "/web", "b", deployment(
        [{"name": "side", "image": "side:2"}]))
    check("conflict inside a keyed list",
          (409, 'Apply failed with 1 conflict: conflict with "a": '
           '.spec.template.spec.containers[name="side"].image'),
          (st, o["message"]))
    st, o = apply(DEP + "/web", "b", deployment(
        [{"name": "extra", "image": "extra:1"}]))
    check("another manager's item merges into the list",
          ["app", "side", "extra"],
          [c["name"] for c in o["spec"]["template"]["spec"]["containers"]])
    st, o = apply(DEP + "/web", "a", deployment(
        [{"name": "app", "image": "app:1"}]))
    check("an item dropped by its applier is removed",
          ["app", "extra"],
          [c["name"] for c in o["spec"]["template"]["spec"]["containers"]])
    st, o = call("PATCH", DEP + "/web", {"spec": {"template": {"spec": {
        "containers": [{"name": "app", "image": "app:2"}]}}}}, STRATEGIC)
    check("strategic merge patch merges containers by name",
          [("app", "app:2"), ("extra", "extra:1")],
          [(c["name"], c["image"])
           for c in o["spec"]["template"]["spec"]["containers"]])
    check("spec change bumps generation", 4, o["metadata"]["generation"])


def patches_and_dry_run():
    st, o = call("PATCH", CM + "/owned",
                 [{"op": "add", "path": "/data/j", "value": "p"},
                  {"op": "test", "path": "/data/x", "value": "10"}],
                 "application/json-patch+json")
    check("JSON patch", (200, {"x": "10", "j": "p"}), (st, o["data"]))
    st, o = call("PATCH", CM + "/owned", {"data": {}}, "application/foo")
    check("unknown patch type: 415", (415, "UnsupportedMediaType"),
          (st, o["reason"]))
    rv = call("GET", CM + "/owned")[1]["metadata"]["resourceVersion"]
    st, o = apply(CM + "/owned", "d", cm({"dry": "run"}),
                  extra="&dryRun=All")
    check("dry-run apply answers the result", (200, "run"),
          (st, o["data"].get("dry")))
    st, o = call("GET", CM + "/owned")
    check("dry-run apply stored nothing", (rv, None),
          (o["metadata"]["resourceVersion"], o["data"].get("dry")))
    st, o = call("DELETE", CM + "/owned?dryRun=All")
    check("dry-run delete keeps the object", 200,
          call("GET", CM + "/owned")[0])


def delete_collection():
    for name, grp in (("g1", "x"), ("g2", "x"), ("g3", "y")):
        call("POST", CM, {"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": name,
                                       "labels": {"grp": grp}}})
    st, o = call("DELETE", CM + "?labelSelector=grp%3Dx")
    check("deletecollection answers the deleted list",
          (200, "ConfigMapList", ["g1", "g2"]),
          (st, o["kind"], [i["metadata"]["name"] for i in o["items"]]))
    st, o = call("GET", CM + "?labelSelector=grp")
    check("deletecollection kept the others", ["g3"],
          [i["metadata"]["name"] for i in o["items"]])


def pages(path, limit, query=""):
    """Every page of a LIST of path: (names per page, the metadata of
    each page)."""
    names, metas, cont = [], [], None
    while True:
        q = "?limit=%d%s" % (limit, query)
        if cont:
            q += "&continue=" + cont
        st, o = call("GET", path + q)
        if st != 200:
            return st, o
        names.append([i["metadata"].get("namespace", "") + "/" +
                      i["metadata"]["name"] for i in o["items"]])
        metas.append(o["metadata"])
        cont = o["metadata"].get("continue")
        if not cont:
            return names, metas


def paging():
    """Pages are ranges of the sorted keys: across namespaces whose names
    sort around the "/" of the key (a, a-b, a0, ab), with a selector, and
    with a write between two pages."""
    made = []
    for ns in ("pg-a", "pg-a-b", "pg-a0", "pg-ab"):
        call("POST", "/api/v1/namespaces",
             {"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": ns}})
        for k in range(5):
            name = "c%d" % k
            call("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                 {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": name,
                               "labels": {"pg": "odd" if k % 2 else "even"}}})
            made.append((ns, name, "odd" if k % 2 else "even"))
    want = sorted(ns + "/" + n for ns, n, _ in made)
    got, metas = pages("/api/v1/configmaps", 3, "&labelSelector=pg")
    check("pages of an all-namespace list with a selector",
          (want, [3] * 6 + [2], None),
          (sum(got, []), [len(p) for p in got],
           metas[0].get("remainingItemCount")))
    got, metas = pages("/api/v1/namespaces/pg-a/configmaps", 2)
    check("pages of one namespace (pg-a, not pg-a-b nor pg-a0)",
          ([["pg-a/c0", "pg-a/c1"], ["pg-a/c2", "pg-a/c3"], ["pg-a/c4"]],
           [3, 1, None]),
          (got, [m.get("remainingItemCount") for m in metas]))
    got, _ = pages("/api/v1/namespaces/pg-a0/configmaps", 2,
                   "&labelSelector=pg%3Dodd")
    check("pages of one namespace with a selector",
          [["pg-a0/c1", "pg-a0/c3"]], got)
    st, o = call("GET", "/api/v1/namespaces/pg-ab/configmaps?limit=2")
    call("DELETE", "/api/v1/namespaces/pg-ab/configmaps/c3")
    call("POST", "/api/v1/namespaces/pg-ab/configmaps",
         {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "c9"}})
    st, o = call("GET", "/api/v1/namespaces/pg-ab/configmaps?limit=10"
                 "&continue=" + o["metadata"]["continue"])
    check("a page after a write reads the store as it is now",
          (200, ["c2", "c4", "c9"], None),
          (st, [i["metadata"]["name"] for i in o["items"]],
           o["metadata"].get("continue")))
    for ns in ("pg-a", "pg-a-b", "pg-a0", "pg-ab"):
        call("DELETE", "/api/v1/namespaces/" + ns)


def faults():
    st, o = call("POST", "/testcluster/faults",
                 {"method": "GET", "path": CM, "count": 2, "status": 503})
    check("fault added", (201, {"faults": 1}), (st, o))
    got = [call("GET", CM)[0] for _ in range(3)]
    check("two faulted answers, then normal", [503, 503, 200], got)
    call("POST", "/testcluster/faults",
         {"path": "/api/v1/namespaces/default", "count": 1,
          "hangSeconds": 1})
    t0 = time.monotonic()
    st, _ = call("GET", "/api/v1/namespaces/default")
    took = time.monotonic() - t0
    check("hang fault delays, then answers", (200, True),
          (st, took >= 0.9))
    check("faults are consumed", {"faults": []},
          call("GET", "/testcluster/faults")[1])


def request_log():
    call("DELETE", "/testcluster/requests")
    apply(CM + "/logged", "tollgate", cm({"k": "v"}, name="logged"),
          force=True)
    call("POST", CM, {"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "byagent"}},
         agent="myagent/1.2 (linux)")
    call("GET", CM + "?labelSelector=a%3Db", accept=PARTIAL_LIST)
    log = call("GET", "/testcluster/requests")[1]["requests"]
    check("the Accept header is logged", PARTIAL_LIST, log[2]["accept"])
    check("request log entries",
          [("PATCH", CM + "/logged", APPLY, "tollgate", 201),
           ("POST", CM, "application/json", "myagent", 201),
           ("GET", CM, "application/json", None, 200)],
          [(e["method"], e["path"], e["contentType"], e["fieldManager"],
            e["status"]) for e in log])
    check("query parameters logged", {"labelSelector": "a=b"},
          log[2]["query"])
    st, o = call("POST", "/testcluster/reset")
    check("reset", 200, st)
    check("reset removed objects", [],
          call("GET", CM)[1]["items"])


PARTIAL = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
PARTIAL_LIST = ("application/json;as=PartialObjectMetadataList;"
                "g=meta.k8s.io;v=v1")


def partial_metadata():
    """Accept as=PartialObjectMetadata first: the answer is the object's
    metadata alone, as client-go's metadata client gets it."""
    st, full = apply(CM + "/partial", "a", cm({"k": "v"}, name="partial"))
    check("partial: the object is made", 201, st)
    st, o = call("GET", CM + "/partial", accept=PARTIAL + ",application/json")
    check("get as PartialObjectMetadata: metadata alone",
          (200, {"kind": "PartialObjectMetadata",
                 "apiVersion": "meta.k8s.io/v1",
                 "metadata": full["metadata"]}), (st, o))
    st, o = call("PATCH", CM + "/partial?fieldManager=a",
                 cm({"k": "w"}, name="partial"), APPLY,
                 accept=PARTIAL + ",application/json")
    check("apply as PartialObjectMetadata: kind, and no data",
          (200, "PartialObjectMetadata", None),
          (st, o.get("kind"), o.get("data")))
    check("apply as PartialObjectMetadata: the new resourceVersion and "
          "managedFields",
          (call("GET", CM + "/partial")[1]["metadata"]["resourceVersion"],
           [("a", "Apply", {"f:data": {"f:k": {}}})]),
          (o["metadata"]["resourceVersion"], fields(o)))
    st, o = call("GET", CM + "/partial", accept="application/json," + PARTIAL)
    check("plain JSON first: the whole object", ("ConfigMap", {"k": "w"}),
          (o.get("kind"), o.get("data")))
    st, o = call("GET", CM, accept=PARTIAL_LIST)
    check("list as PartialObjectMetadataList",
          ("PartialObjectMetadataList", ["PartialObjectMetadata"], None),
          (o.get("kind"), sorted({i["kind"] for i in o["items"]}),
           o["items"][0].get("data")))
    st, o = call("GET", CM + "/missing", accept=PARTIAL)
    check("an error stays a Status", (404, "Status"), (st, o.get("kind")))
    call("DELETE", CM + "/partial")


def stored_sets():
    """A stored object keeps each fieldsV1 as its text (fieldset.c); what
    clients read is the same sets, whatever their keys hold, and a client
    string that looks like a stored set stays a string."""
    odd = 'q"uo\\te \u00e9'
    fake = "\u0001" + "0123456789abcdef" + '{"f:x":{}}'
    key = 'k:{"name":%s}' % json.dumps(odd, ensure_ascii=False,
                                        separators=(",", ":"))

    def env_sets(obj):
        out = {}
        for m in obj["metadata"].get("managedFields", []):
            c = m["fieldsV1"].get("f:spec", {}).get("f:template", {}).get(
                "f:spec", {}).get("f:containers", {}).get(
                'k:{"name":"app"}', {})
            if "f:env" in c:
                out[m["manager"]] = c["f:env"]
        return out

    def dep(value):
        return deployment([{"name": "app", "image": "app:1",
                            "env": [{"name": odd, "value": value}]}],
                          name="odd")

    st, o = apply(DEP + "/odd", "a", dep(fake))
    check("stored sets: a key with a quote, a backslash and non-ASCII",
          (201, {"a": {key: {".": {}, "f:name": {}, "f:value": {}}}}),
          (st, env_sets(o)))
    # Read three ways until no status write of the controller came
    # between the reads.
    for _ in range(50):
        got = call("GET", DEP + "/odd")[1]
        lst = [i for i in call("GET", DEP)[1]["items"]
               if i["metadata"]["name"] == "odd"][0]
        meta = call("GET", DEP + "/odd", accept=PARTIAL)[1]
        if len({o["metadata"]["resourceVersion"]
                for o in (got, lst, meta)}) == 1:
            break
        time.sleep(0.1)
    env = got["spec"]["template"]["spec"]["containers"][0]["env"]
    check("stored sets: a value that looks like a stored set is a string",
          [{"name": odd, "value": fake}], env)
    check("stored sets: get, list and PartialObjectMetadata agree",
          [got["metadata"]["managedFields"]] * 2,
          [lst["metadata"]["managedFields"],
           meta["metadata"]["managedFields"]])
    st, o = apply(DEP + "/odd", "b", dep("other"))
    check("stored sets: a conflict on the odd item names it",
          (409, 'Apply failed with 1 conflict: conflict with "a": '
           '.spec.template.spec.containers[name="app"].env[name=%s].value'
           % json.dumps(odd, ensure_ascii=False)),
          (st, o["message"]))
    st, o = call("PATCH", DEP + "/odd?fieldManager=c", {"spec": {
        "template": {"spec": {"containers": [{"name": "app", "env": [
            {"name": odd, "value": "patched"}]}]}}}}, STRATEGIC)
    check("stored sets: an Update takes the value from the applier",
          (200, {"a": {key: {".": {}, "f:name": {}}},
                 "c": {key: {"f:value": {}}}}),
          (st, env_sets(o)))
    call("DELETE", DEP + "/odd")


def main():
    stored_sets()
    ssa_ownership()
    ssa_conflicts()
    ssa_keyed_lists()
    patches_and_dry_run()
    delete_collection()
    paging()
    faults()
    partial_metadata()
    request_log()
    finish()


if __name__ == "__main__":
    main()
