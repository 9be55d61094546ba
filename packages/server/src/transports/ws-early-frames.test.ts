import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import WebSocket from 'ws';
import { parseServerOp, type ServerOp } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';

/**
 * An identity provider's JWKS endpoint that answers only when the test says so: the gateway's
 * first token check waits on it, as it does on a real provider's first fetch, which is when a
 * client's first frames arrive before its credential has been checked.
 */
class SlowJwks {
  private held: ServerResponse[] = [];
  private open = false;
  private constructor(
    private readonly server: Server,
    private readonly jwk: JWK,
  ) {
    server.on('request', (_req, res) => {
      if (this.open) this.answer(res);
      else this.held.push(res);
    });
  }

  static async start(jwk: JWK): Promise<SlowJwks> {
    const jwks = new SlowJwks(createServer(), jwk);
    await new Promise<void>((resolve) => jwks.server.listen(0, '127.0.0.1', resolve));
    return jwks;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  release(): void {
    this.open = true;
    for (const res of this.held.splice(0)) this.answer(res);
  }

  close(): Promise<void> {
    this.release();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [{ ...this.jwk, alg: 'RS256', use: 'sig', kid: 'k1' }] }));
  }
}

describe('native WebSocket: frames sent right after open with a URL token', () => {
  let jwks: SlowJwks;
  let gw: Gateway;
  let unlimited: Gateway;
  let viewerToken: string;
  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    jwks = await SlowJwks.start(await exportJWK(publicKey));
    const auth = { jwks: jwks.url, clockToleranceSeconds: 0 };
    gw = await createGateway({ port: 0, logLevel: 'silent', auth });
    unlimited = await createGateway({
      port: 0,
      logLevel: 'silent',
      auth,
      limits: { maxMessagesPerSecond: 0 },
    });
    viewerToken = await new SignJWT({ role: 'viewer', streams: ['task:*'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('eager')
      .setExpirationTime('10m')
      .sign(privateKey);
  });
  after(async () => {
    await gw.close();
    await unlimited.close();
    await jwks.close();
  });

  /** Resolves once every one of `expected` frames was answered, with an answer or an error. */
  const answered = (ws: WebSocket, ops: ServerOp[], expected: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        const replies = ops.filter((o) => o.op === 'pong' || o.op === 'subscribed' || o.op === 'error');
        if (replies.length >= expected) resolve();
      };
      ws.on('message', check);
      ws.on('close', () => resolve());
      check();
    });

  it(
    'answers a burst that arrives while the credential is still being checked, refusing none',
    { timeout: 20_000 },
    async () => {
      const ws = new WebSocket(`${gw.wsUrl}?token=${viewerToken}`);
      const ops: ServerOp[] = [];
      ws.on('message', (data) => ops.push(parseServerOp(data.toString())));
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ op: 'subscribe', stream: 'task:early', ref: 'sub' }));
      for (let i = 0; i < 95; i++) ws.send(JSON.stringify({ op: 'ping', ref: `p${i}` }));
      // The protocol-level pong comes back once the gateway has read every frame before the ping;
      // only then does the identity provider answer, so every frame arrived before the check ended.
      ws.ping();
      await new Promise((resolve) => ws.once('pong', resolve));
      jwks.release();
      await answered(ws, ops, 96);
      assert.deepEqual(
        ops.filter((o) => o.op === 'error'),
        [],
      );
      assert.equal(ops.filter((o) => o.op === 'pong').length, 95);
      assert.ok(ops.some((o) => o.op === 'subscribed' && o.ref === 'sub'));
      ws.close();
    },
  );

  it(
    'with no message rate limit, stops reading past its backlog instead of refusing',
    { timeout: 20_000 },
    async () => {
      const ws = new WebSocket(`${unlimited.wsUrl}?token=${viewerToken}`);
      const ops: ServerOp[] = [];
      ws.on('message', (data) => ops.push(parseServerOp(data.toString())));
      await new Promise((resolve) => ws.once('open', resolve));
      for (let i = 0; i < 500; i++) ws.send(JSON.stringify({ op: 'ping', ref: `p${i}` }));
      await answered(ws, ops, 500);
      assert.deepEqual(
        ops.filter((o) => o.op === 'error'),
        [],
      );
      assert.equal(ops.filter((o) => o.op === 'pong').length, 500);
      ws.close();
    },
  );
});
