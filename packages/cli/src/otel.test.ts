import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { UsageError } from './options.js';
import { startTracing, tracingRequest } from './otel.js';
import { waitFor } from './testing/index.js';

const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'agentwire-otel-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('agentwire serve: OpenTelemetry tracing', () => {
  it('starts for --otel or the standard variables, and stays off otherwise', () => {
    assert.equal(tracingRequest(false, {}), undefined);
    assert.equal(tracingRequest(true, {}), 'flag');
    assert.equal(tracingRequest(false, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), 'env');
    assert.equal(tracingRequest(false, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/v1/traces' }), 'env');
    assert.equal(tracingRequest(false, { OTEL_TRACES_EXPORTER: 'otlp' }), 'env');
    assert.equal(
      tracingRequest(false, { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'x' }),
      undefined,
    );
    assert.equal(tracingRequest(true, { OTEL_SDK_DISABLED: 'true' }), undefined);
  });

  it('without the SDK installed: --otel is a usage error naming the package, the variables a warning', async () => {
    const missing = '@agentwire/no-such-otel-sdk';
    await assert.rejects(
      startTracing('flag', () => assert.fail('no warning'), {}, missing),
      (err: unknown) => err instanceof UsageError && err.message.includes(`npm install ${missing}`),
    );
    const warnings: string[] = [];
    assert.equal(await startTracing('env', (w) => warnings.push(w), {}, missing), undefined);
    assert.match(warnings[0] ?? '', /npm install @agentwire\/no-such-otel-sdk.*without tracing/);
  });

  it("exports the gateway's spans over OTLP/HTTP to the endpoint the variables name", async () => {
    // A collector: takes OTLP/HTTP export requests, keeps their (protobuf) bodies.
    const bodies: Buffer[] = [];
    const paths: string[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        paths.push(req.url ?? '');
        bodies.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--port', '0', '--insecure', '--engine', 'memory', '--data', join(root, 'data')],
      {
        env: {
          ...process.env,
          NO_COLOR: '1',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_BSP_SCHEDULE_DELAY: '50',
          OTEL_SERVICE_NAME: '',
        },
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(() => /Tasks \(JSON\)\s+http:\/\/\S+\/v1\/tasks/.test(output), 'the gateway to start');
      const url = /Tasks \(JSON\)\s+(http:\/\/\S+)\/v1\/tasks/.exec(output)![1]!;
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await fetch(`${url}/v1/streams/task:otel/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          events: [
            {
              type: 'log:entry',
              data: { level: 'info', message: 'traced' },
              trace: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
            },
          ],
        }),
      });
      assert.equal(res.status, 200);
      const exported = () => Buffer.concat(bodies);
      await waitFor(
        () => exported().includes('agentwire.fanout') && exported().includes('agentwire.ingest'),
        `spans at the collector (${output})`,
      );
      assert.ok(
        paths.every((p) => p === '/v1/traces'),
        `traces only: ${paths.join(', ')}`,
      );
      assert.ok(exported().includes(Buffer.from(traceId, 'hex')), "the producer's trace id");
      assert.ok(exported().includes('agentwire.append'));
      // The resource's service.name (a protobuf KeyValue: the key, a few framing bytes, the value).
      assert.match(exported().toString('latin1'), /service\.name[\s\S]{1,8}agentwire/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      collector.close();
    }
  });
});
