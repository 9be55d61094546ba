import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createGateway, type Gateway } from '../gateway.js';
import { HostPolicy } from './hosts.js';

/** A GET with a chosen Host (fetch cannot set one): the status and the CORS origin echoed, if any. */
function get(
  gw: Gateway,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; cors: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          cors: res.headers['access-control-allow-origin'] as string | undefined,
          body,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** The HTTP status of a WebSocket upgrade with a chosen Host and Origin (101 when it was accepted). */
function upgrade(gw: Gateway, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => {});
  });
}

describe('DNS rebinding: requests addressed to a host the gateway does not serve', () => {
  let gw: Gateway;
  let named: Gateway;
  before(async () => {
    // Open (the --insecure case), where a foreign page getting through would have full control.
    gw = await createGateway({ port: 0, logLevel: 'silent' });
    named = await createGateway({
      port: 0,
      logLevel: 'silent',
      publicUrl: 'https://agents.example.com',
      allowedHosts: ['.corp.example'],
    });
    await gw.publish('task:t1', [{ type: 'task:start', data: { taskId: 't1', title: 'secret' } }]);
  });
  after(async () => {
    await gw.close();
    await named.close();
  });

  it('refuses HTTP with a foreign Host, even when the Origin matches it or is absent', async () => {
    const evil = `evil.example:${gw.port}`;
    const withOrigin = await get(gw, '/v1/tasks', { host: evil, origin: `http://${evil}` });
    assert.equal(withOrigin.status, 403);
    assert.equal(withOrigin.cors, undefined);
    assert.equal(JSON.parse(withOrigin.body).error.code, 'forbidden');
    assert.match(JSON.parse(withOrigin.body).error.message, /--allowed-host/);
    // A same-origin GET from the rebound page carries no Origin at all.
    const noOrigin = await get(gw, '/v1/tasks', { host: evil });
    assert.equal(noOrigin.status, 403);
    assert.doesNotMatch(noOrigin.body, /secret/);
  });

  it('refuses every upgrade with a foreign Host', async () => {
    const evil = `evil.example:${gw.port}`;
    for (const path of ['/v1/ws', '/socket.io/?EIO=4&transport=websocket', '/v1/producer']) {
      assert.equal(await upgrade(gw, path, { host: evil, origin: `http://${evil}` }), 403, path);
    }
  });

  it('serves IP literals, localhost names and the configured public URL and hosts', async () => {
    assert.equal((await get(gw, '/v1/tasks', { host: `127.0.0.1:${gw.port}` })).status, 200);
    assert.equal((await get(gw, '/v1/tasks', { host: `[::1]:${gw.port}` })).status, 200);
    const local = `localhost:${gw.port}`;
    const own = await get(gw, '/v1/tasks', { host: local, origin: `http://${local}` });
    assert.equal(own.status, 200);
    assert.equal(own.cors, `http://${local}`);
    assert.equal(await upgrade(gw, '/v1/ws', { host: local, origin: `http://${local}` }), 101);

    // Behind a proxy that keeps the public Host, the page's origin is its own.
    const pub = await get(named, '/v1/tasks', {
      host: 'agents.example.com',
      origin: 'https://agents.example.com',
    });
    assert.equal(pub.status, 200);
    // Behind one that rewrites Host, the public origin is still the gateway's own.
    const rewritten = await get(named, '/v1/tasks', {
      host: `127.0.0.1:${named.port}`,
      origin: 'https://agents.example.com',
    });
    assert.equal(rewritten.status, 200);
    assert.equal((await get(named, '/v1/tasks', { host: 'eu.corp.example' })).status, 200);
    assert.equal((await get(named, '/v1/tasks', { host: 'corp.example.evil.example' })).status, 403);
    assert.equal((await get(named, '/healthz', { host: 'other.example.com' })).status, 403);
  });

  it('HostPolicy: names, suffixes, ports and malformed values', () => {
    const p = new HostPolicy(['agents.example.com', '.corp.example']);
    assert.equal(p.allows(undefined), true);
    assert.equal(p.allows('agents.example.com:443'), true);
    assert.equal(p.allows('AGENTS.example.com.'), true);
    assert.equal(p.allows('a.b.corp.example'), true);
    assert.equal(p.allows('corp.example'), true);
    assert.equal(p.allows('xcorp.example'), false);
    assert.equal(p.allows('10.0.0.7:7070'), true);
    assert.equal(p.allows('app.localhost:5173'), true);
    assert.equal(p.allows('evil.example'), false);
    assert.equal(p.allows('user@agents.example.com'), false);
    assert.equal(p.allows('agents.example.com/x'), false);
    assert.equal(p.allows(''), false);
    assert.equal(new HostPolicy(['*']).allows('anything.example'), true);
  });
});
