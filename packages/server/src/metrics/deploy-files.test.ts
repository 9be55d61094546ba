import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createGateway } from '../gateway.js';

const deploy = new URL('../../../../deploy/', import.meta.url);
const files = ['prometheus/alerts.yml', 'prometheus/prometheus.yml', 'grafana/agentwire.json'];

/** Every metric a query names, with a histogram's series suffixes taken off. */
function referenced(text: string): Set<string> {
  const names = new Set<string>();
  for (const [name] of text.matchAll(/\bagentwire_[a-z0-9_]+/g)) {
    names.add(name.replace(/_(bucket|sum|count)$/, ''));
  }
  return names;
}

test('every metric the Grafana dashboard and the Prometheus alerts use is one the gateway exports', async () => {
  const gw = await createGateway({ port: 0, logLevel: 'silent', metrics: { port: 0 } });
  try {
    const text = await (await fetch(gw.metricsUrl!)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    assert.ok(exported.size > 20);
    for (const file of files) {
      const used = referenced(readFileSync(new URL(file, deploy), 'utf8'));
      assert.ok(used.size > 0 || file.endsWith('prometheus.yml'), `${file} uses some metrics`);
      for (const name of used) assert.ok(exported.has(name), `${file} uses ${name}, which is not exported`);
    }
    const dashboard = JSON.parse(readFileSync(new URL('grafana/agentwire.json', deploy), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    assert.ok(dashboard.panels.length >= 10);
    for (const panel of dashboard.panels)
      assert.ok(panel.targets.every((t) => t.expr.includes('agentwire_')));
  } finally {
    await gw.close();
  }
});
