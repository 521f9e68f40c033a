#!/usr/bin/python3
"""Concurrency checks of tests/testcluster: requests served side by side
must answer and store as if they had run one at a time.

 1. Server-side applies of Deployments and of custom resources from
    several clients while another client keeps updating the CRD: every
    apply answers 201 (no 5xx), and the controller writes the current
    status of every Deployment.
 2. An apply of a large ConfigMap into a Namespace that another client
    deletes at the same moment: either the apply is refused (404) or the
    ConfigMap goes with the Namespace; no object is left in a Namespace
    that no longer exists.

usage: race_test.py URL TOKEN
Prints "ok - ..." / "FAIL - ..." lines; exits 1 when anything failed.
"""
import collections
import sys
import threading
import time

from tc_check import check, finish, request

URL, TOKEN = sys.argv[1], sys.argv[2]
APPLY = "application/apply-patch+yaml"
CRD_PATH = ("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
            "widgets.race.example.com")


def call(method, path, body=None, ctype="application/json"):
    return request(URL, TOKEN, method, path, body, ctype)


def apply(path, obj):
    return call("PATCH", path + "?fieldManager=race", obj, APPLY)


def crd(n):
    return {"apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.race.example.com",
                         "annotations": {"round": str(n)}},
            "spec": {"group": "race.example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget",
                               "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True,
                                   "storage": True}]}}


def deployment(name):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [
                                      {"name": "c", "image": "x:1"}]}}}}


def crd_churn():
    codes = collections.Counter()
    check("the CRD is created", 201, apply(CRD_PATH, crd(0))[0])
    stop = threading.Event()

    def churn():
        n = 1
        while not stop.is_set():
            apply(CRD_PATH, crd(n))
            n += 1

    def writer(k):
        for j in range(60):
            name = "race-%d-%d" % (k, j)
            codes["Deployment %d" % apply(
                "/apis/apps/v1/namespaces/default/deployments/" + name,
                deployment(name))[0]] += 1
            codes["Widget %d" % apply(
                "/apis/race.example.com/v1/namespaces/default/widgets/" +
                name, {"apiVersion": "race.example.com/v1",
                       "kind": "Widget", "metadata": {"name": name},
                       "spec": {"size": j}})[0]] += 1

    c = threading.Thread(target=churn)
    c.start()
    ws = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    stop.set()
    c.join()
    check("applies during CRD updates all answer 201",
          {"Deployment 201": 360, "Widget 201": 360}, dict(codes))
    stale = None
    for _ in range(50):
        _, lst = call("GET", "/apis/apps/v1/namespaces/default/deployments")
        stale = sorted(
            d["metadata"]["name"] for d in lst["items"]
            if d.get("status", {}).get("observedGeneration") !=
            d["metadata"].get("generation"))
        if not stale:
            break
        time.sleep(0.1)
    check("every Deployment gets its status within 5 s", [], stale)


def namespace_delete():
    codes = collections.Counter()
    # 20,000 keys: the merge takes long enough for the delete to land
    # while it runs, at one of ten offsets.
    big = {"k%d" % i: "v" for i in range(20000)}
    for i in range(40):
        ns = "race-ns-%d" % i
        call("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        t = threading.Thread(target=lambda ns=ns: codes.update(
            [apply("/api/v1/namespaces/%s/configmaps/big" % ns,
                   {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "big"}, "data": big})[0]]))
        t.start()
        time.sleep(0.004 * (i % 10))
        call("DELETE", "/api/v1/namespaces/" + ns)
        t.join()
    _, lst = call("GET", "/api/v1/configmaps")
    _, nss = call("GET", "/api/v1/namespaces")
    alive = {n["metadata"]["name"] for n in nss["items"]}
    orphans = sorted(c["metadata"]["namespace"] for c in lst["items"]
                     if c["metadata"]["namespace"] not in alive)
    check("every apply racing its Namespace's deletion answers 201 or 404",
          set(), set(codes) - {201, 404})
    check("no ConfigMap is left in a deleted Namespace", [], orphans)


crd_churn()
namespace_delete()
finish()
