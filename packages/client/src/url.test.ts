import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointUrl, httpBaseUrl, webSocketUrl } from './url.js';

test('derives the native endpoint from base and WebSocket URLs', () => {
  assert.equal(webSocketUrl('http://localhost:7070'), 'ws://localhost:7070/v1/ws');
  assert.equal(webSocketUrl('https://gw.example.com/'), 'wss://gw.example.com/v1/ws');
  assert.equal(webSocketUrl('https://example.com/agentwire/'), 'wss://example.com/agentwire/v1/ws');
  assert.equal(webSocketUrl('ws://127.0.0.1:9'), 'ws://127.0.0.1:9/v1/ws');
  assert.equal(webSocketUrl('wss://h/v1/ws?token=a%20b#x'), 'wss://h/v1/ws?token=a%20b');
  assert.equal(webSocketUrl('http://h:1?token=t'), 'ws://h:1/v1/ws?token=t');
  assert.throws(() => webSocketUrl('ftp://h'), TypeError);
  assert.throws(() => webSocketUrl('/relative'), TypeError, 'no page to resolve against in Node');
});

test('derives the HTTP base and endpoint URLs for SSE, polling and commands, keeping the query', () => {
  assert.equal(httpBaseUrl('http://localhost:7070'), 'http://localhost:7070/');
  assert.equal(httpBaseUrl('wss://h/agentwire/v1/ws?token=t'), 'https://h/agentwire?token=t');
  assert.equal(httpBaseUrl('ws://h:9/'), 'http://h:9/');
  assert.equal(
    endpointUrl(httpBaseUrl('https://h/agentwire/?token=t'), '/v1/streams/task%3A1/sse', { since: '4' }),
    'https://h/agentwire/v1/streams/task%3A1/sse?token=t&since=4',
  );
  assert.equal(endpointUrl('http://h:1/', '/readyz'), 'http://h:1/readyz');
});
