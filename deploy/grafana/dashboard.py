#!/usr/bin/env python3
"""Writes deploy/grafana/parlay.json, the Parlay Grafana dashboard (RED per component,
bus, notification delivery, call decisions, messaging, links to traces).

  python3 deploy/grafana/dashboard.py          # rewrite parlay.json
  python3 deploy/grafana/dashboard.py --check  # exit 1 when parlay.json is not up to date

Edit this file, not the JSON. Queries use the `component` and `namespace` labels that
deploy/prometheus/podmonitor.yaml attaches; histograms are queried through their `_bucket`
series. Trace links open Grafana Explore on the chosen Tempo data source with a TraceQL query.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path

OUT = Path(__file__).with_name("parlay.json")
NS = 'namespace="$namespace"'
RATE = "$__rate_interval"
# The gRPC services' OpenTelemetry service.name (services/parlay/src/cli.rs, service_name).
GRPC_SERVICES = "parlay-call|parlay-messaging|parlay-presence|parlay-addresslist"


def explore_url(traceql: str) -> str:
    """A Grafana Explore link running `traceql` on the $tempo data source over the panel's range."""
    panes = {
        "a": {
            "datasource": "${tempo}",
            "queries": [
                {
                    "refId": "A",
                    "datasource": {"type": "tempo", "uid": "${tempo}"},
                    "queryType": "traceql",
                    "query": traceql,
                    "limit": 50,
                }
            ],
            "range": {"from": "${__from}", "to": "${__to}"},
        }
    }
    encoded = urllib.parse.quote(json.dumps(panes, separators=(",", ":")), safe="")
    # Leave Grafana's variables readable so it interpolates them.
    for var in ("${tempo}", "${__from}", "${__to}", "${namespace}"):
        encoded = encoded.replace(urllib.parse.quote(var, safe=""), var)
    return "/explore?schemaVersion=1&orgId=1&panes=" + encoded


def trace_link(title: str, traceql: str) -> dict:
    return {"title": title, "url": explore_url(traceql), "targetBlank": True}


class Layout:
    def __init__(self) -> None:
        self.panels: list[dict] = []
        self.y = 0
        self.x = 0
        self.row_h = 0
        self.next_id = 1

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def row(self, title: str) -> None:
        if self.x:
            self.y += self.row_h
            self.x = 0
        self.panels.append(
            {"type": "row", "title": title, "id": self._id(), "collapsed": False,
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []}
        )
        self.y += 1
        self.row_h = 0

    def add(self, panel: dict, w: int = 8, h: int = 8) -> None:
        if self.x + w > 24:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel.setdefault("datasource", {"type": "prometheus", "uid": "${datasource}"})
        for i, t in enumerate(panel.get("targets", [])):
            t.setdefault("refId", chr(ord("A") + i))
            t.setdefault("datasource", {"type": "prometheus", "uid": "${datasource}"})
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)


def ts(title: str, targets: list[tuple[str, str]], unit: str = "short", desc: str = "",
       links: list[dict] | None = None, stack: bool = False) -> dict:
    return {
        "type": "timeseries",
        "title": title,
        "description": desc,
        "targets": [{"expr": e, "legendFormat": l} for e, l in targets],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
                           "stacking": {"mode": "normal" if stack else "none"}},
            },
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "links": links or [],
    }


def stat(title: str, expr: str, unit: str = "short", desc: str = "", legend: str = "") -> dict:
    return {
        "type": "stat",
        "title": title,
        "description": desc,
        "targets": [{"expr": expr, "legendFormat": legend, "instant": True}],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "textMode": "auto"},
    }


def quantiles(metric: str, by: str, selector: str, legend_prefix: str) -> list[tuple[str, str]]:
    return [
        (f"histogram_quantile({q}, sum by (le{', ' + by if by else ''}) (rate({metric}_bucket{{{selector}}}[{RATE}])))",
         f"p{int(q * 100)} {legend_prefix}")
        for q in (0.5, 0.95, 0.99)
    ]


def build() -> dict:
    L = Layout()

    L.row("Overview")
    L.add(stat("Pods scraped, by component", f"sum by (component) (up{{{NS}, component!=\"\"}})",
               desc="Pods Prometheus reaches on their admin port (up == 1).", legend="{{component}}"), w=8, h=5)
    L.add(stat("ParlayREST requests / s", f"sum(rate(parlay_http_requests_total{{{NS}}}[{RATE}]))", "reqps"), w=4, h=5)
    L.add(stat("ParlayREST 5xx ratio",
               f"sum(rate(parlay_http_requests_total{{{NS}, status=~\"5..\"}}[{RATE}])) / "
               f"sum(rate(parlay_http_requests_total{{{NS}}}[{RATE}]))", "percentunit"), w=4, h=5)
    L.add(stat("Webhook delivery ratio",
               f"sum(rate(parlay_notify_attempts_total{{{NS}, outcome=\"delivered\"}}[{RATE}])) / "
               f"sum(rate(parlay_notify_attempts_total{{{NS}}}[{RATE}]))", "percentunit"), w=4, h=5)
    L.add(stat("Notifications pending", f"sum(parlay_notify_pending{{{NS}}})",
               desc="Stored, not yet delivered nor abandoned."), w=4, h=5)

    gw = f'{NS}, component="gateway"'
    L.row("Gateway: ParlayREST HTTP (rate, errors, duration)")
    L.add(ts("Requests / s by route",
             [(f"sum by (method, route) (rate(parlay_http_requests_total{{{NS}}}[{RATE}]))", "{{method}} {{route}}")],
             "reqps", stack=True,
             links=[trace_link("Traces of the gateway", '{resource.service.name="parlay-gateway"}')]))
    L.add(ts("Errors / s by route and status",
             [(f"sum by (route, status) (rate(parlay_http_requests_total{{{NS}, status=~\"4..|5..\"}}[{RATE}]))",
               "{{status}} {{route}}")],
             "reqps", desc="4xx are the applications' mistakes (ParlayREST requestError); 5xx are ours.",
             links=[trace_link("Failed requests' traces",
                               '{resource.service.name="parlay-gateway" && span.http.status >= 500}')]))
    L.add(ts("Duration by route",
             quantiles("parlay_http_request_duration_seconds", "route", NS, "{{route}}"), "s",
             links=[trace_link("Slow requests' traces",
                               '{resource.service.name="parlay-gateway" && duration > 500ms}')]))

    L.row("gRPC services: call, messaging, presence, addresslist (rate, errors, duration)")
    L.add(ts("Requests / s by method",
             [(f"sum by (component, method) (rate(parlay_grpc_requests_total{{{NS}}}[{RATE}]))",
               "{{component}} {{method}}")], "reqps", stack=True,
             links=[trace_link("Traces of the gRPC services",
                               f'{{resource.service.name=~"{GRPC_SERVICES}"}}')]))
    L.add(ts("Errors / s by method and code",
             [(f"sum by (component, method, code) (rate(parlay_grpc_requests_total{{{NS}, code!=\"Ok\"}}[{RATE}]))",
               "{{component}} {{method}} {{code}}")], "reqps",
             links=[trace_link("Failed calls' traces",
                               f'{{resource.service.name=~"{GRPC_SERVICES}" && status = error}}')]))
    L.add(ts("Duration by component",
             quantiles("parlay_grpc_request_duration_seconds", "component", NS, "{{component}}"), "s"))

    L.row("Bus: NATS JetStream")
    L.add(ts("Published / s by subject",
             [(f"sum by (component, subject) (rate(parlay_bus_published_total{{{NS}}}[{RATE}]))",
               "{{component}} {{subject}}")], "ops"))
    L.add(ts("Consumed / s by consumer and outcome",
             [(f"sum by (durable, outcome) (rate(parlay_bus_consumed_total{{{NS}}}[{RATE}]))",
               "{{durable}} {{outcome}}")], "ops"))
    L.add(ts("Consumer lag (messages not yet delivered)",
             [(f"max by (durable) (parlay_bus_consumer_pending{{{NS}}})", "{{durable}}")], "short",
             desc="Growing lag: the consuming component needs more replicas, or a replica is stuck."))

    L.row("Notifications: webhook delivery (notify)")
    L.add(ts("Attempts / s by outcome",
             [(f"sum by (outcome) (rate(parlay_notify_attempts_total{{{NS}}}[{RATE}]))", "{{outcome}}")],
             "ops", stack=True,
             links=[trace_link("Webhook traces", '{resource.service.name="parlay-notify"}')]))
    L.add(ts("Delivery latency (job created to delivered)",
             quantiles("parlay_notify_delivery_seconds", "", NS, ""), "s"))
    L.add(ts("Pending notifications",
             [(f"sum(parlay_notify_pending{{{NS}}})", "pending")], "short"))
    L.add(ts("Call-direction answers / s by outcome",
             [(f"sum by (outcome) (rate(parlay_notify_replies_total{{{NS}}}[{RATE}]))", "{{outcome}}"),
              (f"sum(rate(parlay_notify_replies_lost_total{{{NS}}}[{RATE}]))", "lost")], "ops"))
    L.add(ts("Call-direction answer latency",
             quantiles("parlay_notify_reply_seconds", "", NS, ""), "s"))

    L.row("Presence fan-out (presence)")
    L.add(ts("Notifications queued / s by kind",
             [(f"sum by (kind) (rate(parlay_presence_notifications_total{{{NS}}}[{RATE}]))", "{{kind}}")],
             "ops", stack=True,
             desc="presenceList: presence-list subscriptions' notifications, after coalescing; "
                  "watchers: watcher subscriptions' notifications.",
             links=[trace_link("Presence traces", '{resource.service.name="parlay-presence"}')]), w=24)

    L.row("Call decisions (Call Notification, call direction)")
    L.add(ts("Decisions / s by action and source",
             [(f"sum by (action, source) (rate(parlay_call_decisions_total{{{NS}}}[{RATE}]))",
               "{{source}} {{action}}")], "ops", stack=True,
             desc="source=application: the application answered; source=default: the subscription's default applied."))
    L.add(ts("Share decided by default",
             [(f"sum(rate(parlay_call_decisions_total{{{NS}, source=\"default\"}}[{RATE}])) / "
               f"sum(rate(parlay_call_decisions_total{{{NS}}}[{RATE}]))", "default")], "percentunit"))
    L.add(ts("Decisions / s by reason",
             [(f"sum by (reason) (rate(parlay_call_decisions_total{{{NS}}}[{RATE}]))", "{{reason}}")], "ops",
             links=[trace_link("Call service traces", '{resource.service.name="parlay-call"}')]))

    L.row("Messaging (SMS / MMS)")
    L.add(ts("Outbound requests accepted / s by kind",
             [(f"sum by (kind) (rate(parlay_messaging_requests_total{{{NS}}}[{RATE}]))", "{{kind}}")],
             "ops", stack=True,
             links=[trace_link("Messaging traces", '{resource.service.name="parlay-messaging"}')]))
    L.add(ts("Delivery receipts / s by status",
             [(f"sum by (status, applied) (rate(parlay_messaging_receipts_total{{{NS}}}[{RATE}]))",
               "{{status}} applied={{applied}}")], "ops",
             desc="applied=false: a duplicate or out-of-order receipt that changed nothing."))
    L.add(ts("Inbound messages / s by kind",
             [(f"sum by (kind) (rate(parlay_messaging_inbound_total{{{NS}}}[{RATE}]))", "{{kind}}")], "ops"))

    L.row("Resources")
    L.add(ts("CPU by component (cores)",
             [(f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{NS}, pod=~\"parlay-.+\", container=\"parlay\"}}[{RATE}]))",
               "{{pod}}")], "short"), w=12)
    L.add(ts("Memory by pod",
             [(f"sum by (pod) (container_memory_working_set_bytes{{{NS}, pod=~\"parlay-.+\", container=\"parlay\"}})",
               "{{pod}}")], "bytes"), w=12)

    return {
        "title": "Parlay",
        "uid": "parlay-overview",
        "description": "Parlay (ParlayREST suite): RED per component, bus, notification delivery, call decisions. "
                       "Generated by deploy/grafana/dashboard.py.",
        "tags": ["parlay"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-1h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
                 "current": {}, "hide": 0},
                {"name": "tempo", "label": "Traces", "type": "datasource", "query": "tempo",
                 "current": {}, "hide": 0},
                {"name": "namespace", "label": "Namespace", "type": "query",
                 "datasource": {"type": "prometheus", "uid": "${datasource}"},
                 "query": {"query": 'label_values(up{component!=""}, namespace)', "refId": "namespace"},
                 "definition": 'label_values(up{component!=""}, namespace)',
                 "refresh": 2, "current": {}, "hide": 0, "sort": 1},
            ]
        },
        "links": [
            {"title": "Traces: all of Parlay", "type": "link", "targetBlank": True,
             "url": explore_url('{resource.service.namespace="parlay" && resource.k8s.namespace.name="${namespace}"}')},
            {"title": "Traces: errors", "type": "link", "targetBlank": True,
             "url": explore_url('{resource.service.namespace="parlay" && resource.k8s.namespace.name="${namespace}" && status = error}')},
        ],
        "annotations": {"list": []},
        "panels": L.panels,
    }


def main() -> int:
    text = json.dumps(build(), indent=2) + "\n"
    if "--check" in sys.argv[1:]:
        if not OUT.is_file() or OUT.read_text() != text:
            print(f"{OUT} is not what {Path(__file__).name} generates: run python3 {__file__}")
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
