#!/usr/bin/python3
"""python3-kubernetes against tests/testcluster: create, patch, list with
selectors and pages, conflicts, errors, server-side apply through the
dynamic client (YAML body), a CRD and its objects, watch, delete.

usage: client_test.py KUBECONFIG
Prints "ok - ..." / "FAIL - ..." lines; exits 1 when anything failed.
"""
import json
import sys

from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

from tc_check import check, finish


def api_error(fn, *args, **kwargs):
    """(status, parsed Status body) of a call that must fail."""
    try:
        fn(*args, **kwargs)
    except ApiException as e:
        return e.status, json.loads(e.body)
    return None, None


def names(items):
    return sorted(i.metadata.name for i in items)


def core_checks(v1):
    check("initial namespaces",
          ["default", "kube-node-lease", "kube-public", "kube-system"],
          names(v1.list_namespace().items))
    v1.create_namespace(client.V1Namespace(
        metadata=client.V1ObjectMeta(name="py")))
    cm = v1.create_namespaced_config_map("py", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg", "labels": {"app": "demo", "tier": "web"}},
        "data": {"a": "1"}})
    check("created uid is a UUID", 36, len(cm.metadata.uid))
    check("create manager from the User-Agent",
          [("OpenAPI-Generator", "Update")],
          [(m.manager, m.operation) for m in cm.metadata.managed_fields])
    check("create fieldsV1",
          {"f:data": {".": {}, "f:a": {}},
           "f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:tier": {}}}},
          cm.metadata.managed_fields[0].fields_v1)
    rv1 = int(cm.metadata.resource_version)
    cm = v1.patch_namespaced_config_map("cfg", "py", {"data": {"b": "2"}})
    check("strategic merge patch merges data", {"a": "1", "b": "2"}, cm.data)
    check("patch bumps resourceVersion", True,
          int(cm.metadata.resource_version) > rv1)
    v1.create_namespaced_config_map("py", {
        "metadata": {"name": "cfg2", "labels": {"app": "other"}},
        "data": {}})


def list_checks(v1):
    def ls(**kw):
        return names(v1.list_namespaced_config_map("py", **kw).items)
    check("labelSelector =", ["cfg"], ls(label_selector="app=demo"))
    check("labelSelector !=", ["cfg2"], ls(label_selector="app!=demo"))
    check("labelSelector in", ["cfg", "cfg2"],
          ls(label_selector="app in (demo, other)"))
    check("labelSelector notin", ["cfg2"],
          ls(label_selector="app notin (demo)"))
    check("labelSelector exists", ["cfg"], ls(label_selector="tier"))
    check("labelSelector !exists", ["cfg2"], ls(label_selector="!tier"))
    check("fieldSelector metadata.name", ["cfg2"],
          ls(field_selector="metadata.name=cfg2"))
    page = v1.list_namespaced_config_map("py", limit=1)
    check("first page", ["cfg"], names(page.items))
    check("remainingItemCount", 1, page.metadata.remaining_item_count)
    page = v1.list_namespaced_config_map(
        "py", limit=1, _continue=page.metadata._continue)
    check("second page", ["cfg2"], names(page.items))
    check("last page has no continue", None, page.metadata._continue)
    status, body = api_error(v1.list_namespaced_config_map, "py",
                             field_selector="spec.foo=bar")
    check("unsupported field selector", (400, "BadRequest"),
          (status, body and body["reason"]))


def error_checks(v1):
    status, body = api_error(v1.read_namespaced_config_map, "nope", "py")
    check("404 Status", (404, "NotFound", 'configmaps "nope" not found'),
          (status, body["reason"], body["message"]))
    cm = v1.read_namespaced_config_map("cfg", "py")
    cm.metadata.resource_version = "1"
    status, body = api_error(v1.replace_namespaced_config_map, "cfg", "py",
                             cm)
    check("stale update is a Conflict", (409, "Conflict"),
          (status, body["reason"]))
    check("conflict message",
          'Operation cannot be fulfilled on configmaps "cfg": the object has '
          'been modified; please apply your changes to the latest version '
          'and try again', body["message"])
    status, body = api_error(v1.create_namespaced_config_map, "py",
                             {"metadata": {"name": "cfg"}})
    check("AlreadyExists", (409, "AlreadyExists"), (status, body["reason"]))


DEPLOYMENT_YAML = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: py
spec:
  replicas: 3
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: registry.example/api:2.0
"""


def apply_checks(dyn):
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    obj = deployments.server_side_apply(
        body=DEPLOYMENT_YAML, name="api", namespace="py",
        field_manager="py-apply")
    check("apply from YAML creates", (3, "registry.example/api:2.0"),
          (obj.spec.replicas, obj.spec.template.spec.containers[0].image))
    mf = [(m["manager"], m["operation"]) for m in
          obj.to_dict()["metadata"]["managedFields"]]
    check("applier owns its fields", [("py-apply", "Apply")], mf)
    try:
        deployments.server_side_apply(
            body=DEPLOYMENT_YAML.replace("replicas: 3", "replicas: 4"),
            name="api", namespace="py", field_manager="other")
        check("conflict for another manager", 409, 200)
    except ApiException as e:
        body = json.loads(e.body)
        check("conflict for another manager",
              (409, 'Apply failed with 1 conflict: conflict with '
               '"py-apply": .spec.replicas',
               [{"reason": "FieldManagerConflict",
                 "message": 'conflict with "py-apply"',
                 "field": ".spec.replicas"}]),
              (e.status, body["message"], body["details"]["causes"]))


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget",
                  "kind": "Widget", "shortNames": ["wd"]},
        "versions": [{"name": "v1", "served": True, "storage": True,
                      "schema": {"openAPIV3Schema": {"type": "object"}}}]}}


def crd_checks(api):
    ext = client.ApiextensionsV1Api(api)
    crd = ext.create_custom_resource_definition(CRD)
    conds = {c.type: c.status for c in crd.status.conditions}
    check("CRD Established", "True", conds.get("Established"))
    dyn = dynamic.DynamicClient(api)
    widgets = dyn.resources.get(api_version="example.com/v1", kind="Widget")
    check("dynamic client discovers the CRD", ("widgets", True),
          (widgets.name, widgets.namespaced))
    widgets.create(namespace="py", body={
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1"}, "spec": {"size": 3}})
    w = widgets.get(namespace="py", name="w1")
    check("custom object stored", (3, 1),
          (w.spec.size, w.metadata.generation))
    check("custom list", ["w1"],
          [i.metadata.name for i in widgets.get(namespace="py").items])
    ext.delete_custom_resource_definition("widgets.example.com")
    status, _ = api_error(client.CustomObjectsApi(api).list_namespaced_custom_object,
                          "example.com", "v1", "py", "widgets")
    check("deleted CRD's resource is gone", 404, status)


def watch_checks(v1):
    w = watch.Watch()
    seen = []
    for ev in w.stream(v1.list_namespaced_config_map, "py",
                       timeout_seconds=1):
        seen.append((ev["type"], ev["object"].metadata.name))
    check("watch starts with ADDED for each object",
          [("ADDED", "cfg"), ("ADDED", "cfg2")], seen)


def delete_checks(v1):
    st = v1.delete_namespaced_config_map("cfg", "py")
    check("delete answers Status Success", ("Success", "cfg"),
          (st.status, st.details.name))
    check("one left", ["cfg2"],
          names(v1.list_namespaced_config_map("py").items))
    v1.delete_namespace("py")
    status, _ = api_error(v1.read_namespaced_config_map, "cfg2", "py")
    check("namespace deletion removed its objects", 404, status)


def main():
    api = config.new_client_from_config(config_file=sys.argv[1])
    v1 = client.CoreV1Api(api)
    core_checks(v1)
    list_checks(v1)
    error_checks(v1)
    apply_checks(dynamic.DynamicClient(api))
    crd_checks(api)
    watch_checks(v1)
    delete_checks(v1)
    finish()


if __name__ == "__main__":
    main()
