/**
 * Adversarial inputs for the fuzz test, from a seeded generator so a failure can be replayed with
 * AGENTWIRE_FUZZ_SEED. Each generator returns a label (what kind of input it is, for the counts the
 * test prints) and the input.
 */
export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

function deep(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

const weirdValues: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  -0,
  2 ** 53 + 1,
  '',
  'x'.repeat(5000),
  '\u0000',
  '..',
  '%2e%2e',
  {},
  [],
  [[[]]],
  { __proto__: { op: 'ping' } },
  { constructor: { prototype: {} } },
  'task:*',
  'system',
  '🙂'.repeat(100),
];

const streams = [
  'task:a1',
  'task:b1',
  'project:beta',
  'system',
  'task:',
  ':x',
  'task:../b1',
  'task:%2Fb1',
  'TASK:a1',
  'task:a1\u0000',
  `task:${'z'.repeat(300)}`,
];

/** One native WebSocket frame: text (maybe not JSON, maybe not UTF-8) or binary. */
export function wsFrame(r: Rng): { kind: string; data: string | Buffer; binary?: boolean } {
  switch (Math.floor(r() * 11)) {
    case 0:
      return {
        kind: 'invalid-json',
        data: pick(r, ['{', '{"op":', 'nul', '[1,]', '{"op":"ping"}}', '\u0000']),
      };
    case 1:
      return {
        kind: 'invalid-utf8',
        data: Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0xfe, 0x7d]),
        binary: pick(r, [true, false]),
      };
    case 2:
      return {
        kind: 'deep-nesting',
        data: `{"op":"subscribe","stream":"task:a1","since":${deep(Math.floor(r() * 5000) + 100)}}`,
      };
    case 3:
      return {
        kind: 'huge-string',
        data: JSON.stringify({ op: 'ping', ref: 'x'.repeat(Math.floor(r() * 80_000)) }),
      };
    case 4:
      return {
        kind: 'unknown-op',
        data: JSON.stringify({ op: pick(r, ['hello', 'explode', 'PING', '__proto__', 'constructor', 7]) }),
      };
    case 5:
      return {
        kind: 'out-of-range-seq',
        data: JSON.stringify({
          op: 'subscribe',
          stream: 'task:a1',
          since: { seq: pick(r, [-1, 1e300, 2 ** 53, 0.5, '5', null]), epoch: pick(r, ['', 'x', 7]) },
        }),
      };
    case 6:
      return {
        kind: 'wrong-types',
        data: JSON.stringify({
          op: pick(r, ['subscribe', 'command', 'unsubscribe', 'auth', 'watch_tasks', 'unwatch_tasks']),
          stream: pick(r, weirdValues),
          ref: pick(r, weirdValues),
          command: pick(r, weirdValues),
          token: pick(r, weirdValues),
          query: pick(r, [
            ...weirdValues,
            { project: 'beta' },
            { status: 'sleeping' },
            { search: 'x'.repeat(300) },
          ]),
          offset: pick(r, weirdValues),
          limit: pick(r, [...weirdValues, 0, 1001, 1e300]),
        }),
      };
    case 7:
      return {
        kind: 'stream-tricks',
        data: JSON.stringify({ op: 'subscribe', stream: pick(r, streams), ref: 's' }),
      };
    case 8:
      return {
        kind: 'unknown-command',
        data: JSON.stringify({
          op: 'command',
          ref: 'c',
          command: {
            type: pick(r, ['cancel', 'nuke', 'start', 'answer']),
            stream: pick(r, streams),
            kind: pick(r, weirdValues),
            extra: 1,
          },
        }),
      };
    case 9:
      return {
        kind: 'auth-op',
        data: JSON.stringify({
          op: 'auth',
          token: pick(r, ['x', 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'y'.repeat(20_000)]),
        }),
      };
    default:
      return {
        kind: 'valid-op',
        data: JSON.stringify({
          op: 'subscribe',
          stream: pick(r, ['task:a1', 'task:b1', 'project:beta']),
          since: { seq: 0 },
        }),
      };
  }
}

/** The API's own routes; each surface adds its own (testing/surfaces.ts). */
const paths = [
  '/v1/streams/task:b1/events',
  '/v1/streams/task%3Ab1',
  '/v1/streams/..%2F..%2Fetc%2Fpasswd/events',
  '/v1/streams/task:a1/events?after=-1',
  '/v1/streams/task:a1/events?after=99999999999999999',
  '/v1/streams/task:a1/events?limit=abc',
  '/v1/tasks',
  '/v1/tasks?project=beta',
  '/v1/tasks?project=beta&q=secret&offset=0&limit=1000',
  '/v1/tasks?status=nope&wait=1&etag=x',
  '/v1/tasks?wait=NaN&etag=',
  '/v1/tasks?offset=99999999999999999&limit=-1',
  '/v1/tasks/b1',
  '/v1/tasks/..%2Fb1',
  '/v1/tasks/%00',
  '/v1/stats',
  '/v1/commands',
  '/api/websocket/status',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/index.html%00.js',
  '/v1/',
  '/v1//streams',
  `/v1/streams/${'a'.repeat(5000)}`,
];

export interface HttpInput {
  kind: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
}

/** One request: to the API's own routes, or to `routes` (every surface's, testing/surfaces.ts). */
export function httpInput(r: Rng, routes: readonly string[] = []): HttpInput {
  const path = pick(r, [...paths, ...routes]);
  const method = pick(r, ['GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
  if (method !== 'POST')
    return { kind: path.includes('..') || path.includes('%00') ? 'path-trick' : 'http-get', method, path };
  switch (Math.floor(r() * 6)) {
    case 0:
      return {
        kind: 'http-invalid-json',
        method,
        path,
        body: '{"events": [',
        contentType: 'application/json',
      };
    case 1:
      return {
        kind: 'http-invalid-utf8',
        method,
        path,
        body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        contentType: 'application/json',
      };
    case 2:
      return {
        kind: 'http-deep-nesting',
        method,
        path,
        body: `{"events":${deep(20_000)}}`,
        contentType: 'application/json',
      };
    case 3:
      return {
        kind: 'http-huge-body',
        method,
        path,
        body: JSON.stringify({ events: ['x'.repeat(1_200_000)] }),
        contentType: 'application/json',
      };
    case 4:
      return {
        kind: 'http-unknown-event-type',
        method,
        path,
        body: JSON.stringify({
          events: [
            { type: pick(r, ['task:explode', 'log:entry', '__proto__', 7]), data: pick(r, weirdValues) },
          ],
          type: 'cancel',
          stream: pick(r, streams),
        }),
        contentType: pick(r, ['application/json', 'text/plain', 'application/x-www-form-urlencoded']),
      };
    default:
      return {
        kind: 'http-wrong-types',
        method,
        path,
        body: JSON.stringify(pick(r, weirdValues)),
        contentType: 'application/json',
      };
  }
}

/** One Socket.IO event with an adversarial payload, as an engine.io text frame. */
export function sioFrame(r: Rng): { kind: string; data: string } {
  const event = pick(r, [
    'subscribe',
    'unsubscribe',
    'command',
    'join_room',
    'chat_message',
    'stop_agent',
    'start',
    'rejoin',
    'auth',
    'explode',
    '__proto__',
    'constructor',
  ]);
  const payload = pick(r, [
    ...weirdValues,
    { stream: pick(r, streams) },
    { room: pick(r, ['admin', 'monitoring', 'task:b1', 'chat']) },
    { requestId: 'b1' },
  ]);
  const kind = pick(r, ['sio-event', 'sio-event', 'sio-malformed']);
  if (kind === 'sio-malformed')
    return {
      kind,
      data: pick(r, ['42[', '42{}', '4', '49', `42["${'e'.repeat(3000)}"]`, '41/nowhere,', '40/nope,{}']),
    };
  return { kind, data: `42${JSON.stringify([event, payload])}` };
}
