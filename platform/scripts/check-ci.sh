#!/usr/bin/env bash
# Static checks of the GitLab CI configuration (python3 with PyYAML):
#   - every YAML file under .gitlab/ and every .gitlab-ci.yml parses (GitLab's
#     !reference tags accepted);
#   - every include of the root .gitlab-ci.yml, and of the files it includes,
#     is a local file that exists (a string, local:, or a glob);
#   - every other .gitlab-ci.yml below the root (platform/) is included;
#   - the CI lint job pins staticcheck at the Makefile's STATICCHECK_VERSION;
#   - .gitlab/ci-templates/services.yml, the matrix every service job runs
#     over, holds only the list of services: exactly the directories under
#     services/, in alphabetical order (make generate writes it from the services table);
#   - every extends: and !reference names a job or template, and every needs:
#     a job (unless optional: true), defined in the included files;
#   - every image reference to the platform tools image uses the tag in
#     platform/VERSION (build-base-image pushes that tag).
# Run from anywhere; checks the repository this script lives in.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

python3 -c 'import yaml' 2>/dev/null || {
  echo "check-ci: python3 with PyYAML is required (pip install pyyaml)" >&2
  exit 1
}

exec python3 - <<'PY'
import glob
import os
import re
import sys

import yaml

errors = []
RESERVED = {
    "stages", "variables", "include", "workflow", "default", "image", "services",
    "before_script", "after_script", "cache", "pages:deploy",
}


class Ref(list):
    """A GitLab !reference [job, key, ...] tag."""


class Loader(yaml.SafeLoader):
    pass


def _reference(loader, node):
    return Ref(loader.construct_sequence(node))


def _other(loader, suffix, node):
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)


Loader.add_constructor("!reference", _reference)
Loader.add_multi_constructor("!", _other)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=Loader)
    except (OSError, yaml.YAMLError) as e:
        errors.append(f"{path}: does not parse: {e}".replace("\n", " "))
        return None


PRUNE = {".git", ".cache", "node_modules", "bin", "data"}
ci_files, gitlab_yaml = [], []
for root, dirs, files in os.walk("."):
    dirs[:] = sorted(d for d in dirs if d not in PRUNE)
    rel = os.path.relpath(root, ".")
    for f in sorted(files):
        p = os.path.normpath(os.path.join(rel, f))
        if f == ".gitlab-ci.yml":
            ci_files.append(p)
        elif (p.startswith(".gitlab" + os.sep)) and f.endswith((".yml", ".yaml")):
            gitlab_yaml.append(p)

docs = {}
for p in ci_files + gitlab_yaml:
    docs[p] = load(p)

if ".gitlab-ci.yml" not in docs:
    errors.append(".gitlab-ci.yml: missing")


def includes_of(path, doc):
    """The local files DOC includes (GitLab resolves local paths from the root)."""
    inc = doc.get("include") if isinstance(doc, dict) else None
    if inc is None:
        return []
    if not isinstance(inc, list):
        inc = [inc]
    out = []
    for item in inc:
        if isinstance(item, str):
            if re.match(r"^https?://", item):
                errors.append(f"{path}: include {item}: remote includes are not allowed")
                continue
            local = item
        elif isinstance(item, dict) and "local" in item:
            local = item["local"]
        elif isinstance(item, dict) and ("project" in item or "template" in item or "remote" in item or "component" in item):
            errors.append(f"{path}: include {item}: only local includes are allowed (replace a project: include by local:)")
            continue
        else:
            errors.append(f"{path}: include {item!r}: not understood")
            continue
        if not isinstance(local, str) or not local:
            errors.append(f"{path}: include local: {local!r}: not a path")
            continue
        target = local.lstrip("/")
        if any(c in target for c in "*?["):
            matches = sorted(p for p in glob.glob(target, recursive=True) if os.path.isfile(p))
            if not matches:
                errors.append(f"{path}: include local: {local}: matches no file")
            out.extend(os.path.normpath(m) for m in matches)
        elif not os.path.isfile(target):
            errors.append(f"{path}: include local: {local}: no such file")
        else:
            out.append(os.path.normpath(target))
    return out


# Everything the root pipeline reads, in include order.
included, queue = [], [".gitlab-ci.yml"] if ".gitlab-ci.yml" in docs else []
while queue:
    p = queue.pop(0)
    if p in included:
        continue
    included.append(p)
    if p not in docs:
        docs[p] = load(p)
    queue.extend(includes_of(p, docs[p]))

# The services matrix: only the list, exactly the services, sorted.
SERVICES_YML = ".gitlab/ci-templates/services.yml"
if not os.path.isfile(SERVICES_YML):
    errors.append(f"{SERVICES_YML}: missing")
else:
    if SERVICES_YML not in included:
        errors.append(f"{SERVICES_YML}: not included by the root .gitlab-ci.yml")
    doc = docs.get(SERVICES_YML)
    try:
        assert isinstance(doc, dict) and list(doc) == [".services"]
        assert list(doc[".services"]) == ["parallel"] and list(doc[".services"]["parallel"]) == ["matrix"]
        matrix = doc[".services"]["parallel"]["matrix"]
        assert isinstance(matrix, list) and len(matrix) == 1 and list(matrix[0]) == ["SERVICE"]
        listed = matrix[0]["SERVICE"]
        assert isinstance(listed, list) and all(isinstance(x, str) for x in listed)
    except (AssertionError, AttributeError, KeyError, TypeError):
        errors.append(f"{SERVICES_YML}: must hold only .services: parallel: matrix: - SERVICE: [<service>, ...]")
        listed = None
    if listed is not None:
        want = sorted(os.path.basename(d.rstrip("/")) for d in glob.glob("services/*/"))
        if listed != sorted(listed):
            errors.append(f"{SERVICES_YML}: services are not in alphabetical order: {listed}")
        for s in sorted(set(want) - set(listed)):
            errors.append(f"{SERVICES_YML}: services/{s}/ is not in the matrix")
        for s in sorted(set(listed) - set(want)):
            errors.append(f"{SERVICES_YML}: {s} is in the matrix but services/{s}/ does not exist")
        if len(set(listed)) != len(listed):
            errors.append(f"{SERVICES_YML}: a service is listed twice: {listed}")

# The CI lint job's staticcheck is the Makefile's version.
with open("Makefile", encoding="utf-8") as f:
    m = re.search(r"^STATICCHECK_VERSION := (\S+)$", f.read(), re.M)
GO_YML = ".gitlab/ci-templates/go.yml"
with open(GO_YML, encoding="utf-8") as f:
    pins = re.findall(r"honnef\.co/go/tools/cmd/staticcheck@(\S+)", f.read())
if not m:
    errors.append("Makefile: STATICCHECK_VERSION is not set")
elif pins != [m.group(1)]:
    errors.append(f"{GO_YML}: staticcheck pinned at {pins}, the Makefile's STATICCHECK_VERSION is {m.group(1)}")

# Every .gitlab-ci.yml is included.
for p in ci_files:
    if p != ".gitlab-ci.yml" and p not in included:
        errors.append(f"{p}: not included by the root .gitlab-ci.yml (directly or through an included file)")

# Jobs and templates defined across the included files.
defined, jobs = {}, []
for p in included:
    doc = docs.get(p)
    if doc is None:
        continue
    if not isinstance(doc, dict):
        errors.append(f"{p}: top level is not a mapping")
        continue
    for name, body in doc.items():
        if name in RESERVED:
            continue
        if name in defined and not name.startswith("."):
            errors.append(f"{p}: job {name} is also defined in {defined[name]}")
        defined[name] = p
        if isinstance(body, dict):
            jobs.append((p, name, body))


def walk_refs(value):
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from walk_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_refs(v)


image_ref = re.compile(r"/platform-tools:([^\s\"'@]+)")
platform_version = None
if os.path.isfile("platform/VERSION"):
    with open("platform/VERSION", encoding="utf-8") as f:
        platform_version = f.read().strip()

bodies = {name: body for _, name, body in jobs}


def matrix_of(name, seen=()):
    """The parallel:matrix a job runs over, through its extends, or None."""
    body = bodies.get(name)
    if not isinstance(body, dict) or name in seen:
        return None
    if isinstance(body.get("parallel"), dict):
        return body["parallel"].get("matrix")
    ext = body.get("extends")
    for e in reversed([ext] if isinstance(ext, str) else (ext or [])):
        m = matrix_of(e, seen + (name,))
        if m is not None:
            return m
    return None


for p, name, body in jobs:
    ext = body.get("extends")
    for e in [ext] if isinstance(ext, str) else (ext or []):
        if e not in defined:
            errors.append(f"{p}: {name}: extends {e}, which no included file defines")
    for ref in walk_refs(body):
        if not ref or ref[0] not in defined:
            errors.append(f"{p}: {name}: !reference {list(ref)} names a job no included file defines")
    needs = body.get("needs")
    for n in needs if isinstance(needs, list) else []:
        job, optional = (n, False) if isinstance(n, str) else (n.get("job"), n.get("optional", False)) if isinstance(n, dict) else (None, True)
        if job is not None and not optional and (job not in defined or job.startswith(".")):
            errors.append(f"{p}: {name}: needs {job}, which no included file defines")
        # A matrix job that needs another matrix job names the instance it
        # needs; a bare name would wait for every service's job.
        if job is not None and matrix_of(job) and matrix_of(name):
            want = [{k: ["$[[ matrix." + k + " ]]"] for k in matrix_of(name)[0]}]
            got = ((n.get("parallel") or {}).get("matrix") if isinstance(n, dict) else None)
            if got != want:
                errors.append(f"{p}: {name}: needs {job} without parallel: matrix: {want}, so it would not need only its own instance")
    if "stage" in body and not name.startswith("."):
        stages = (docs.get(".gitlab-ci.yml") or {}).get("stages") or []
        if body["stage"] not in stages and body["stage"] not in (".pre", ".post"):
            errors.append(f"{p}: {name}: stage {body['stage']} is not in the root stages {stages}")

# The platform tools image tag follows platform/VERSION.
for p in included + gitlab_yaml:
    try:
        with open(p, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        continue
    for m in image_ref.finditer(text):
        if platform_version is None:
            errors.append(f"{p}: uses the platform tools image but platform/VERSION is missing")
        elif m.group(1) != platform_version:
            errors.append(f"{p}: platform-tools:{m.group(1)} but platform/VERSION is {platform_version}")

if errors:
    print("check-ci: FAIL", file=sys.stderr)
    for e in dict.fromkeys(errors):
        print(f"  - {e}", file=sys.stderr)
    sys.exit(1)
print(f"check-ci: OK ({len(docs)} YAML files parse; {len(included)} included files, "
      f"{len(jobs)} jobs and templates, every include, extends, needs and service resolved)")
PY
