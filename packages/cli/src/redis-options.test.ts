import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gatewayOptions, gatewaySpecs } from './gateway-options.js';
import { parseOptions, UsageError } from './options.js';

const data = mkdtempSync(join(tmpdir(), 'agentwire-redis-options-'));
after(() => rmSync(data, { recursive: true, force: true }));

const parse = (...flags: string[]) => {
  const argv = ['--insecure', '--data', data, '--engine', 'redis', ...flags];
  return gatewayOptions(parseOptions(argv, gatewaySpecs).values, argv);
};

/** The fields of the engine config these flags decide (other flags add their own). */
const redisPart = (engine: unknown) => {
  const { kind, url, prefix, waitReplicas, waitTimeoutMs } = engine as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries({ kind, url, prefix, waitReplicas, waitTimeoutMs }).filter(([, v]) => v !== undefined),
  );
};

describe('serve --engine redis options', () => {
  it('takes a Sentinel URL and the WAIT flags into the engine config', () => {
    const url = 'redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/agentwire?db=1';
    const { engine } = parse(
      '--redis-url',
      url,
      '--redis-wait-replicas',
      '1',
      '--redis-wait-timeout',
      '500ms',
    );
    assert.deepEqual(redisPart(engine), {
      kind: 'redis',
      url,
      prefix: 'agentwire:',
      waitReplicas: 1,
      waitTimeoutMs: 500,
    });
  });

  it('leaves WAIT off by default', () => {
    const { engine } = parse('--redis-url', 'rediss://redis.example.com:6380');
    assert.deepEqual(redisPart(engine), {
      kind: 'redis',
      url: 'rediss://redis.example.com:6380',
      prefix: 'agentwire:',
    });
  });

  it('refuses a malformed or cluster URL with a usage error that says why', () => {
    assert.throws(
      () => parse('--redis-url', 'redis+sentinel://10.0.0.1:26379'),
      (err: unknown) => err instanceof UsageError && /--redis-url: .*name the master/.test(err.message),
    );
    assert.throws(
      () => parse('--redis-url', 'redis-cluster://a:7000,b:7001'),
      (err: unknown) => err instanceof UsageError && /Redis Cluster is not supported/.test(err.message),
    );
    assert.throws(
      () => parse('--redis-wait-replicas', 'one'),
      (err: unknown) => err instanceof UsageError && /--redis-wait-replicas/.test(err.message),
    );
  });
});
