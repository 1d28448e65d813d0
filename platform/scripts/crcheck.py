#!/usr/bin/env python3
"""Check manifests against a real kube-apiserver, field by field.

Installs the CRDs found under --crds (platform/scripts/fetch-crds.sh puts the
pinned upstream ones in .cache/crds), waits until they are Established, then
sends every object of the given multi-document YAML files as a server-side
dry-run create with strict field validation: the API server checks each
custom resource against its CRD's openAPIV3Schema (unknown or duplicate
fields, types, enums, required fields, CEL rules) and each core object
against its built-in schema. Namespaces the objects name are created for
real (dry-run creates need them).

Usage: crcheck.py --crds DIR [--kubeconfig FILE] FILE.yaml...   ("-" reads stdin)
Needs python3 and PyYAML (Debian: python3-yaml, which yamllint pulls in).
"""

import argparse
import base64
import json
import os
import pathlib
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml


class API:
    def __init__(self, kubeconfig):
        cfg = yaml.safe_load(pathlib.Path(kubeconfig).read_text())
        ctx_name = cfg["current-context"]
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == ctx_name)
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        self.server = cluster["server"].rstrip("/")
        self.token = user.get("token")
        self.ssl = ssl.create_default_context()
        if "certificate-authority-data" in cluster:
            self.ssl.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif "certificate-authority" in cluster:
            self.ssl.load_verify_locations(cafile=cluster["certificate-authority"])
        if "client-certificate-data" in user:
            d = tempfile.mkdtemp()
            crt, key = os.path.join(d, "c.crt"), os.path.join(d, "c.key")
            pathlib.Path(crt).write_bytes(base64.b64decode(user["client-certificate-data"]))
            pathlib.Path(key).write_bytes(base64.b64decode(user["client-key-data"]))
            self.ssl.load_cert_chain(crt, key)
        self.discovery = {}

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.server + path, method=method)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, data=data, context=self.ssl, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"message": raw.decode(errors="replace")}

    def resource(self, api_version, kind):
        """(plural, namespaced) of kind in api_version, from discovery."""
        if api_version not in self.discovery:
            path = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            status, body = self.call("GET", path)
            self.discovery[api_version] = body.get("resources", []) if status == 200 else []
        for r in self.discovery[api_version]:
            if r["kind"] == kind and "/" not in r["name"]:
                return r["name"], r["namespaced"]
        return None, None

    def collection(self, api_version, plural, namespace):
        base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
        return base + (f"/namespaces/{namespace}" if namespace else "") + "/" + plural


class Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's "=" value tag (CRDs have enums like - =)."""


Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:value"] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(paths):
    docs = []
    for p in paths:
        text = sys.stdin.read() if p == "-" else pathlib.Path(p).read_text()
        for d in yaml.load_all(text, Loader=Loader):
            if not d:
                continue
            if d.get("kind", "").endswith("List") and "items" in d:
                docs.extend(d["items"])
            else:
                docs.append(d)
    return docs


def install_crds(api, crd_dir):
    crds = [d for d in load(sorted(str(p) for p in pathlib.Path(crd_dir).rglob("*.yaml")))
            if d.get("kind") == "CustomResourceDefinition"]
    if not crds:
        sys.exit(f"crcheck: no CRDs under {crd_dir} (run platform/scripts/fetch-crds.sh)")
    base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    for crd in crds:
        name = crd["metadata"]["name"]
        status, body = api.call("POST", base, crd)
        if status == 409:
            _, old = api.call("GET", f"{base}/{name}")
            crd["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            status, body = api.call("PUT", f"{base}/{name}", crd)
        if status not in (200, 201):
            sys.exit(f"crcheck: installing CRD {name}: {status} {body.get('message')}")
    deadline = time.time() + 60
    for crd in crds:
        name = crd["metadata"]["name"]
        while True:
            _, body = api.call("GET", f"{base}/{name}")
            conds = {c["type"]: c["status"] for c in body.get("status", {}).get("conditions", [])}
            if conds.get("Established") == "True":
                break
            if time.time() > deadline:
                sys.exit(f"crcheck: CRD {name} not Established: {conds}")
            time.sleep(0.2)
    api.discovery.clear()
    print(f"crcheck: {len(crds)} CRDs installed from {crd_dir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crds", required=True)
    ap.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    if not args.kubeconfig:
        sys.exit("crcheck: no kubeconfig (eval \"$(platform/kube/kube.sh env)\")")
    api = API(args.kubeconfig)
    install_crds(api, args.crds)
    docs = load(args.files)
    for ns in sorted({d.get("metadata", {}).get("namespace") for d in docs} - {None}):
        api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    passed = failed = 0
    for d in docs:
        kind, api_version = d.get("kind"), d.get("apiVersion")
        meta = d.get("metadata", {})
        what = f"{kind} {meta.get('namespace', '')}/{meta.get('name')}"
        plural, namespaced = api.resource(api_version, kind)
        if plural is None:
            print(f"FAIL {what}: the API server serves no {kind} in {api_version}")
            failed += 1
            continue
        ns = meta.get("namespace", "default") if namespaced else None
        path = api.collection(api_version, plural, ns) + "?dryRun=All&fieldValidation=Strict"
        status, body = api.call("POST", path, d)
        if status == 409 and body.get("reason") == "AlreadyExists":
            path = api.collection(api_version, plural, ns) + f"/{meta['name']}?dryRun=All&fieldValidation=Strict"
            _, old = api.call("GET", path.split("?")[0])
            d["metadata"]["resourceVersion"] = old.get("metadata", {}).get("resourceVersion")
            status, body = api.call("PUT", path, d)
        if status in (200, 201):
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}: {status} {body.get('message')}")
    print(f"crcheck: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
