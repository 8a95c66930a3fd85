#!/usr/bin/env python3
"""The project's own checks of its deployment artefacts (run by scripts/check-manifests).

  policy_test.py --overlay dev=rendered-dev.yaml --overlay prod=rendered-prod.yaml \
                 --dockerfile deploy/Dockerfile [--deploy-dir deploy] [--kubernetes-version 1.30.0]

Rendered overlays (the output of `kubectl kustomize`): every Deployment has startup, readiness
(/readyz) and liveness (/livez) probes on its admin port, resource requests and limits, the
restricted security context, a preStop sleep inside a long enough termination grace period, a
writable /tmp, an image with a pinned tag, a Service selecting its pods (a headless one too
when it serves gRPC), a PodDisruptionBudget and a HorizontalPodAutoscaler aimed at it, a
NetworkPolicy of its own; the namespace has a default-deny NetworkPolicy and DNS egress;
every referenced ConfigMap and PVC exists; every component with a database has its migration
Job. The Dockerfile: multi-stage, pinned base images, a non-root final USER, the parlay
ENTRYPOINT. deploy/: core Kubernetes objects validate against the schemas (custom resources
are skipped, by name), the Grafana dashboard is valid JSON.

Prints one line per check ("ok" or "FAIL") and a closing "policy: N passed, M failed"; exits 1
when anything failed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

# Secrets the operator creates (never committed): name -> why.
EXTERNAL_SECRETS = {"parlay-db"}
# Components that keep state in memory and so run exactly one replica.
SINGLE_REPLICA = {"netsim"}
# The process's own shutdown grace (services/parlay/src/components.rs, GRACE).
PROCESS_GRACE_SECS = 25
ADMIN_PORT = 9090
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of")


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, why: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + why if why else ''}")
        return ok

    def info(self, what: str) -> None:
        print(f"skip {what}")


def load_all(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]


def subset(small: dict | None, big: dict | None) -> bool:
    small, big = small or {}, big or {}
    return bool(small) and all(big.get(k) == v for k, v in small.items())


def selects(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector (matchLabels / matchExpressions) matches `labels`."""
    if not selector:
        return False
    if not all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def ns(obj: dict) -> str:
    return obj.get("metadata", {}).get("namespace", "")


def name(obj: dict) -> str:
    return obj.get("metadata", {}).get("name", "")


def image_pinned(image: str) -> tuple[bool, str]:
    if "@sha256:" in image:
        return True, ""
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False, f"{image} has no tag"
    tag = last.split(":", 1)[1]
    if tag == "latest":
        return False, f"{image} uses the latest tag"
    return True, ""


def check_security(r: Report, where: str, pod: dict) -> None:
    psc = pod.get("securityContext") or {}
    containers = (pod.get("initContainers") or []) + (pod.get("containers") or [])
    problems = []
    if psc.get("runAsNonRoot") is not True:
        problems.append("pod runAsNonRoot is not true")
    if psc.get("runAsUser") == 0:
        problems.append("pod runAsUser is 0")
    for c in containers:
        sc = c.get("securityContext") or {}
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{c['name']}: seccompProfile is {seccomp}")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{c['name']}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{c['name']}: readOnlyRootFilesystem is not true")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{c['name']}: capabilities do not drop ALL")
        if (sc.get("capabilities") or {}).get("add"):
            problems.append(f"{c['name']}: adds capabilities")
        if sc.get("privileged"):
            problems.append(f"{c['name']}: privileged")
        if sc.get("runAsUser") == 0:
            problems.append(f"{c['name']}: runAsUser is 0")
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        problems.append("uses host namespaces")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append("mounts a service account token")
    r.check(not problems, f"{where}: restricted security context", "; ".join(problems))


def check_resources(r: Report, where: str, pod: dict) -> None:
    problems = []
    for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
        res = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if not (res.get(kind) or {}).get(what):
                    problems.append(f"{c['name']}: no {kind}.{what}")
    r.check(not problems, f"{where}: resource requests and limits", "; ".join(problems))


def check_images(r: Report, where: str, pod: dict) -> None:
    problems = []
    for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
        ok, why = image_pinned(c.get("image", ""))
        if not ok:
            problems.append(why)
    r.check(not problems, f"{where}: images pinned (a tag, not latest)", "; ".join(problems))


def check_tmp(r: Report, where: str, pod: dict) -> None:
    empty = {v["name"] for v in pod.get("volumes") or [] if "emptyDir" in v}
    missing = [
        c["name"]
        for c in pod.get("containers") or []
        if not any(m.get("mountPath") == "/tmp" and m.get("name") in empty for m in c.get("volumeMounts") or [])
    ]
    r.check(not missing, f"{where}: /tmp is an emptyDir (read-only root)", f"not in {missing}")


def probe_problems(c: dict, kind: str, path: str | None) -> list[str]:
    probe = c.get(kind)
    if not probe:
        return [f"no {kind}"]
    get = probe.get("httpGet")
    if not get:
        return [f"{kind} is not an httpGet"]
    problems = []
    if path and get.get("path") != path:
        problems.append(f"{kind} path is {get.get('path')}, want {path}")
    port = get.get("port")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    if port != "admin" and port != ADMIN_PORT:
        problems.append(f"{kind} is on port {port}, not the admin port")
    if port == "admin" and ports.get("admin") != ADMIN_PORT:
        problems.append(f"{kind} names port admin, which the container does not declare as {ADMIN_PORT}")
    return problems


def check_deployment(r: Report, overlay: str, d: dict, objs: list[dict]) -> None:
    where = f"[{overlay}] Deployment/{name(d)}"
    meta_labels = d["metadata"].get("labels") or {}
    spec = d["spec"]
    tmpl = spec["template"]
    labels = tmpl["metadata"].get("labels") or {}
    pod = tmpl["spec"]
    containers = pod.get("containers") or []
    component = labels.get("app.kubernetes.io/component", "?")
    same_ns = [o for o in objs if ns(o) == ns(d)]

    missing = [k for k in REQUIRED_LABELS if k not in labels or k not in meta_labels]
    r.check(
        not missing and labels.get("app.kubernetes.io/part-of") == "parlay",
        f"{where}: labels name/component/part-of=parlay",
        f"missing {missing}",
    )
    r.check(
        subset(spec["selector"].get("matchLabels"), labels),
        f"{where}: selector matches its pod template",
    )
    r.check(
        "replicas" not in spec,
        f"{where}: no spec.replicas (the HPA owns the count)",
        f"replicas: {spec.get('replicas')}",
    )

    problems = []
    for c in containers:
        problems += [f"{c['name']}: {p}" for p in probe_problems(c, "startupProbe", None)]
        problems += [f"{c['name']}: {p}" for p in probe_problems(c, "readinessProbe", "/readyz")]
        problems += [f"{c['name']}: {p}" for p in probe_problems(c, "livenessProbe", "/livez")]
    r.check(not problems, f"{where}: startup, readiness (/readyz) and liveness (/livez) probes on admin", "; ".join(problems))

    check_resources(r, where, pod)
    check_security(r, where, pod)
    check_images(r, where, pod)
    check_tmp(r, where, pod)

    grace = pod.get("terminationGracePeriodSeconds", 30)
    problems = []
    for c in containers:
        sleep = (((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
        if not sleep:
            problems.append(f"{c['name']}: no preStop sleep")
        elif grace <= PROCESS_GRACE_SECS + sleep:
            problems.append(f"terminationGracePeriodSeconds {grace} <= {PROCESS_GRACE_SECS} + preStop {sleep}")
    r.check(not problems, f"{where}: preStop sleep within a longer termination grace period", "; ".join(problems))

    problems = []
    for c in containers:
        args = c.get("args") or []
        if args[:2] != ["serve", component]:
            problems.append(f"{c['name']}: args {args}, want serve {component}")
    r.check(not problems, f"{where}: runs `parlay serve {component}`", "; ".join(problems))

    # References resolve: ConfigMaps and PVCs in the render, Secrets the operator creates.
    problems = []
    configmaps = {name(o) for o in same_ns if o["kind"] == "ConfigMap"}
    pvcs = {name(o) for o in same_ns if o["kind"] == "PersistentVolumeClaim"}
    for c in containers:
        for ef in c.get("envFrom") or []:
            if "configMapRef" in ef and ef["configMapRef"]["name"] not in configmaps:
                problems.append(f"ConfigMap {ef['configMapRef']['name']} missing")
            if "secretRef" in ef and ef["secretRef"]["name"] not in EXTERNAL_SECRETS:
                problems.append(f"Secret {ef['secretRef']['name']} is not a documented external secret")
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["name"] not in EXTERNAL_SECRETS:
                problems.append(f"Secret {ref['name']} is not a documented external secret")
    for v in pod.get("volumes") or []:
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and claim not in pvcs:
            problems.append(f"PVC {claim} missing")
    r.check(not problems, f"{where}: ConfigMap, Secret and PVC references resolve", "; ".join(problems))

    # A Service selecting the pods, whose target ports the container declares.
    port_names = {p.get("name") for c in containers for p in c.get("ports") or []}
    port_numbers = {p.get("containerPort") for c in containers for p in c.get("ports") or []}
    services = [o for o in same_ns if o["kind"] == "Service" and subset(o["spec"].get("selector"), labels)]
    normal = [s for s in services if s["spec"].get("clusterIP") != "None"]
    problems = []
    if not normal:
        problems.append("no ClusterIP Service selects its pods")
    for s in services:
        for p in s["spec"].get("ports") or []:
            target = p.get("targetPort", p.get("port"))
            if target not in port_names and target not in port_numbers:
                problems.append(f"Service/{name(s)} port {p.get('name')} targets {target}, which no container declares")
    r.check(
        not problems,
        f"{where}: Service selects its pods ({', '.join(name(s) for s in services) or 'none'})",
        "; ".join(problems),
    )
    if "grpc" in port_names:
        headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
        r.check(bool(headless), f"{where}: a headless Service for its gRPC port", "none selects its pods")

    pdbs = [o for o in same_ns if o["kind"] == "PodDisruptionBudget" and selects(o["spec"].get("selector"), labels)]
    problems = []
    if len(pdbs) != 1:
        problems.append(f"{len(pdbs)} PodDisruptionBudgets select its pods")
    r.check(not problems, f"{where}: a PodDisruptionBudget selects its pods", "; ".join(problems))

    hpas = [
        o
        for o in same_ns
        if o["kind"] == "HorizontalPodAutoscaler"
        and o["spec"]["scaleTargetRef"].get("kind") == "Deployment"
        and o["spec"]["scaleTargetRef"].get("name") == name(d)
        and o["spec"]["scaleTargetRef"].get("apiVersion") == "apps/v1"
    ]
    problems = []
    if len(hpas) != 1:
        problems.append(f"{len(hpas)} HorizontalPodAutoscalers target it")
    else:
        h = hpas[0]["spec"]
        lo, hi = h.get("minReplicas", 1), h["maxReplicas"]
        if lo > hi:
            problems.append(f"minReplicas {lo} > maxReplicas {hi}")
        if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu" for m in h.get("metrics") or []):
            problems.append("no CPU metric")
        if component in SINGLE_REPLICA and (lo, hi) != (1, 1):
            problems.append(f"{component} keeps state in memory: wants 1..1, has {lo}..{hi}")
        elif overlay == "dev" and (lo, hi) != (1, 1):
            problems.append(f"dev wants 1..1 replicas, has {lo}..{hi}")
        elif overlay == "prod" and component not in SINGLE_REPLICA and lo < 2:
            problems.append(f"prod wants at least 2 replicas, has minReplicas {lo}")
        pdb = pdbs[0]["spec"] if len(pdbs) == 1 else {}
        if "minAvailable" in pdb and isinstance(pdb["minAvailable"], int) and pdb["minAvailable"] >= lo:
            problems.append(f"PDB minAvailable {pdb['minAvailable']} >= minReplicas {lo}: node drains would block")
    r.check(not problems, f"{where}: a HorizontalPodAutoscaler (autoscaling/v2) targets it", "; ".join(problems))

    own = [
        o
        for o in same_ns
        if o["kind"] == "NetworkPolicy" and o["spec"].get("podSelector") and selects(o["spec"]["podSelector"], labels)
        and name(o).startswith(name(d))
    ]
    r.check(bool(own), f"{where}: a NetworkPolicy of its own", "none selects its pods by name")

    # A component with a database has a migration Job for that database.
    keys = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for c in containers
        for e in c.get("env") or []
        if e.get("name") == "PARLAY_DATABASE_URL" and (e.get("valueFrom") or {}).get("secretKeyRef")
    }
    if keys:
        jobs = [
            o
            for o in same_ns
            if o["kind"] == "Job"
            and any(
                (c.get("args") or [])[:3] == ["migrate", "--service", component]
                and any(
                    ((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("key") in keys
                    for e in c.get("env") or []
                )
                for c in o["spec"]["template"]["spec"].get("containers") or []
            )
        ]
        r.check(bool(jobs), f"{where}: a migration Job runs `parlay migrate --service {component}` on its database")


def check_job(r: Report, overlay: str, j: dict) -> None:
    where = f"[{overlay}] Job/{name(j)}"
    tmpl = j["spec"]["template"]
    pod = tmpl["spec"]
    labels = tmpl["metadata"].get("labels") or {}
    missing = [k for k in REQUIRED_LABELS if k not in labels]
    r.check(not missing, f"{where}: labels name/component/part-of", f"missing {missing}")
    r.check(
        pod.get("restartPolicy") in ("Never", "OnFailure") and j["spec"].get("backoffLimit") is not None,
        f"{where}: restartPolicy and backoffLimit set",
    )
    check_resources(r, where, pod)
    check_security(r, where, pod)
    check_images(r, where, pod)
    check_tmp(r, where, pod)


def check_namespace_policies(r: Report, overlay: str, objs: list[dict]) -> None:
    namespaces = sorted({ns(o) for o in objs if o["kind"] == "Deployment"})
    for n in namespaces:
        nps = [o for o in objs if o["kind"] == "NetworkPolicy" and ns(o) == n]
        deny = [
            o
            for o in nps
            if o["spec"].get("podSelector") == {}
            and set(o["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
            and not o["spec"].get("ingress")
            and not o["spec"].get("egress")
        ]
        r.check(bool(deny), f"[{overlay}] namespace {n}: a default-deny NetworkPolicy (ingress and egress)")
        dns = [
            o
            for o in nps
            if o["spec"].get("podSelector") == {}
            and any(
                {p.get("port") for p in rule.get("ports") or []} >= {53}
                and {p.get("protocol", "TCP") for p in rule.get("ports") or []} >= {"UDP", "TCP"}
                for rule in o["spec"].get("egress") or []
            )
        ]
        r.check(bool(dns), f"[{overlay}] namespace {n}: DNS egress (53 UDP and TCP) for every pod")
        prom = [
            o
            for o in nps
            if any(
                any(
                    (f.get("namespaceSelector") or {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "monitoring"
                    for f in rule.get("from") or []
                )
                for rule in o["spec"].get("ingress") or []
            )
        ]
        r.check(bool(prom), f"[{overlay}] namespace {n}: Prometheus (namespace monitoring) may scrape")
        nss = [o for o in objs if o["kind"] == "Namespace" and name(o) == n]
        r.check(
            bool(nss) and (nss[0]["metadata"].get("labels") or {}).get("pod-security.kubernetes.io/enforce") == "restricted",
            f"[{overlay}] namespace {n}: Pod Security Admission enforces restricted",
        )


def check_overlay(r: Report, overlay: str, path: Path) -> None:
    objs = load_all(path)
    r.check(bool(objs), f"[{overlay}] rendered {len(objs)} objects from {path}")
    deployments = [o for o in objs if o["kind"] == "Deployment"]
    r.check(bool(deployments), f"[{overlay}] has Deployments ({', '.join(name(d) for d in deployments)})")
    check_namespace_policies(r, overlay, objs)
    for d in deployments:
        check_deployment(r, overlay, d, objs)
    for j in [o for o in objs if o["kind"] == "Job"]:
        check_job(r, overlay, j)
    names = {(o["kind"], ns(o), name(o)) for o in objs}
    r.check(len(names) == len(objs), f"[{overlay}] no two objects share kind, namespace and name")


# --- Dockerfile -------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
        current = ""
    return out


def check_dockerfile(r: Report, path: Path) -> None:
    where = f"[docker] {path}"
    if not r.check(path.is_file(), f"{where}: exists"):
        return
    ins = dockerfile_instructions(path.read_text())
    args = {}
    for word, rest in ins:
        if word == "ARG" and "=" in rest:
            k, v = rest.split("=", 1)
            args[k.strip()] = v.strip()
    froms = [rest for word, rest in ins if word == "FROM"]
    r.check(len(froms) >= 2, f"{where}: multi-stage ({len(froms)} stages)")

    problems = []
    stage_names = set()
    for f in froms:
        parts = f.split()
        image = parts[0] if not parts[0].startswith("--") else parts[1]
        image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), image)
        if image not in stage_names:
            ok, why = image_pinned(image)
            if not ok:
                problems.append(why)
            if "$" in image:
                problems.append(f"{image}: an ARG without a default")
        if " AS " in f.upper():
            stage_names.add(f.split()[-1])
    r.check(not problems, f"{where}: base images pinned (a tag, not latest)", "; ".join(problems))

    last_from = max(i for i, (w, _) in enumerate(ins) if w == "FROM")
    final = ins[last_from:]
    users = [rest for w, rest in final if w == "USER"]
    user = users[-1] if users else ""
    uid = user.split(":")[0]
    r.check(
        bool(user) and uid not in ("0", "root"),
        f"{where}: final stage runs as a non-root USER ({user or 'none'})",
    )
    entry = [rest for w, rest in final if w == "ENTRYPOINT"]
    try:
        entry_argv = json.loads(entry[-1]) if entry else None
    except json.JSONDecodeError:
        entry_argv = None
    r.check(
        isinstance(entry_argv, list) and entry_argv[:1] == ["/usr/local/bin/parlay"],
        f"{where}: ENTRYPOINT [\"/usr/local/bin/parlay\"] in exec form",
        f"got {entry[-1] if entry else 'none'}",
    )
    copies = [rest for w, rest in final if w == "COPY" and "/usr/local/bin/parlay" in rest]
    r.check(bool(copies), f"{where}: final stage copies only the built binary to /usr/local/bin/parlay")
    exposed = {p.split("/")[0] for w, rest in final if w == "EXPOSE" for p in rest.split()}
    r.check(
        exposed >= {"8080", "9090", "50051"},
        f"{where}: EXPOSE 8080 9090 50051",
        f"exposes {sorted(exposed)}",
    )
    runs = " ".join(rest for w, rest in ins[:last_from] if w == "RUN")
    r.check(
        "cargo build --release -p parlay --locked" in runs and "--mount=type=cache" in runs,
        f"{where}: builder runs `cargo build --release -p parlay --locked` with cache mounts",
    )
    ignore = path.parent.parent / ".dockerignore"
    if ignore.is_file():
        entries = {l.strip().rstrip("/") for l in ignore.read_text().splitlines()}
        r.check(
            {"target", ".git", "data"} <= entries,
            f"[docker] {ignore}: excludes target/, data/ and .git",
        )


# --- deploy/ ----------------------------------------------------------------------------


def check_deploy_dir(r: Report, deploy: Path, version: str) -> None:
    try:
        import kubernetes_validate
        from kubernetes_validate.utils import SchemaNotFoundError
    except ImportError:
        r.check(False, "[deploy] kubernetes_validate importable")
        return
    for path in sorted(deploy.rglob("*.yaml")) + sorted(deploy.rglob("*.yml")):
        try:
            docs = load_all(path)
        except yaml.YAMLError as e:
            r.check(False, f"[deploy] {path}: parses", str(e).splitlines()[0])
            continue
        objects = [d for d in docs if "apiVersion" in d and "kind" in d]
        if not objects:
            r.info(f"[deploy] {path}: no Kubernetes objects (Helm values or a tool's config)")
            continue
        for obj in objects:
            what = f"[deploy] {path}: {obj['kind']}/{name(obj)} ({obj['apiVersion']})"
            try:
                kubernetes_validate.validate(obj, version, strict=True)
                r.check(True, f"{what} validates against Kubernetes {version}")
            except SchemaNotFoundError:
                r.info(f"{what}: custom resource, no schema offline; not validated")
            except Exception as e:  # a ValidationError names the path
                path_s = ".".join(str(p) for p in getattr(e, "path", []))
                r.check(False, f"{what} validates against Kubernetes {version}", f"{path_s}: {getattr(e, 'message', e)}")

    for path in sorted(deploy.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            r.check(False, f"[deploy] {path}: valid JSON", str(e))
            continue
        r.check(True, f"[deploy] {path}: valid JSON")
        if "panels" in data:
            exprs = [
                t.get("expr", "")
                for p in data.get("panels", [])
                for t in p.get("targets", []) or []
            ]
            r.check(
                bool(exprs) and all(exprs),
                f"[deploy] {path}: Grafana dashboard, {len(exprs)} queries, none empty",
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--overlay", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--dockerfile", type=Path)
    ap.add_argument("--deploy-dir", type=Path)
    ap.add_argument("--kubernetes-version", default="1.30.0")
    a = ap.parse_args()
    r = Report()
    for spec in a.overlay:
        overlay, _, file = spec.partition("=")
        check_overlay(r, overlay, Path(file))
    if a.dockerfile:
        check_dockerfile(r, a.dockerfile)
    if a.deploy_dir:
        check_deploy_dir(r, a.deploy_dir, a.kubernetes_version)
    print(f"policy: {r.passed} passed, {r.failed} failed")
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
