import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Paths of the shipped dashboards and rules. */
export const ALERTS = fileURLToPath(new URL('../../dashboards/prometheus/alerts.yml', import.meta.url));
export const ALERTS_TEST = fileURLToPath(new URL('../../dashboards/prometheus/alerts.test.yml', import.meta.url));
export const GRAFANA = fileURLToPath(new URL('../../dashboards/grafana/andon.json', import.meta.url));

/** The PromQL expressions of alerts.yml, by alert name. */
export function alertExprs(): { name: string; expr: string }[] {
  const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ name: r.alert ?? r.record ?? '?', expr: String(r.expr) })));
}

/** Every PromQL expression of the Grafana dashboard (panel targets, annotations, variable queries). */
export function grafanaExprs(): { name: string; expr: string }[] {
  const out: { name: string; expr: string }[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      const here = typeof o.title === 'string' ? o.title : where;
      if (typeof o.expr === 'string') out.push({ name: here, expr: o.expr });
      if (typeof o.definition === 'string') out.push({ name: `variable ${String(o.name)}`, expr: o.definition });
      for (const [k, v] of Object.entries(o)) if (k !== 'expr') walk(v, here);
    }
  };
  walk(JSON.parse(readFileSync(GRAFANA, 'utf8')), 'dashboard');
  return out;
}

/** Grafana's variables replaced by values Prometheus accepts, so the expression can be parsed or run. */
export const resolveGrafanaVars = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');

/** Metric names an expression reads (andon_*, process_*, nodejs_*), label_values(...) included. */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b((?:andon|process|nodejs)_[a-zA-Z0-9_]+)/g)].map((m) => m[1] as string))];
}
