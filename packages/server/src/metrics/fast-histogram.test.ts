import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

it('scrapes exactly as a prom-client Histogram fed the same values', async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({
    name: 'h_seconds',
    help: 'Help.',
    labelNames: ['path'],
    buckets: BOUNDS,
    registers: [theirs],
  });
  const fast = new FastHistogram('h_seconds', 'Help.', BOUNDS, ours);
  assert.equal(await ours.metrics(), await theirs.metrics(), 'nothing observed yet');
  const values = { http: [0.0005, 0.001, 0.02, 3], amqp: [0.5] };
  for (const [path, vs] of Object.entries(values)) {
    const series = fast.labels({ path });
    for (const v of vs) {
      reference.observe({ path }, v);
      series.observe(v);
    }
  }
  fast.labels({ path: 'in_process' }); // asked for, never observed: not shown, as prom-client
  assert.equal(await ours.metrics(), await theirs.metrics());
  fast.reset();
  reference.reset();
  assert.equal(await ours.metrics(), await theirs.metrics(), 'after a reset');
});

it('scrapes an unlabelled series as prom-client does', async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'd_seconds', help: 'D.', buckets: BOUNDS, registers: [theirs] });
  const series = new FastHistogram('d_seconds', 'D.', BOUNDS, ours).labels();
  for (const v of [0, 0.05, 0.05, 7]) {
    reference.observe(v);
    series.observe(v);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
});
