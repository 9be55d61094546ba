import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser, type SseMessage } from './sse-parser.js';

const stream = [
  '\uFEFFretry: 1000\r\n',
  '\r\n',
  ': keep-alive\n',
  '\n',
  'id: 0\n',
  'event: subscribed\n',
  'data: {"op":"subscribed"}\n',
  '\n',
  'id: 1\r',
  'event: event\r',
  'data: first line\r',
  'data:second line, no space\r',
  'data\r',
  'data:  two spaces keep one\r',
  '\r',
  'event: lonely\n',
  'id: 2\0x\n', // an id with NUL is ignored
  '\n', // a message without data is dropped
  'data: plain\n',
  'unknown: field\n',
  'retry: soon\n', // not digits: ignored
  '\n',
  'data: unfinished at the end',
].join('');

const expected: SseMessage[] = [
  { event: 'subscribed', data: '{"op":"subscribed"}', lastEventId: '0' },
  {
    event: 'event',
    data: 'first line\nsecond line, no space\n\n two spaces keep one',
    lastEventId: '1',
  },
  { event: 'message', data: 'plain', lastEventId: '1' },
];

test('parses the event-stream format: fields, comments, CR/LF/CRLF, multi-line data, retry, BOM', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.feed(stream), expected);
  assert.equal(parser.retry, 1000);
  assert.equal(parser.lastEventId, '1');
});

test('chunk boundaries anywhere, even between CR and LF, change nothing', () => {
  // One character at a time, then every split point of two chunks.
  const one = new SseParser();
  const got = [...stream].flatMap((ch) => one.feed(ch));
  assert.deepEqual(got, expected);
  for (let cut = 0; cut <= stream.length; cut++) {
    const parser = new SseParser();
    const messages = [...parser.feed(stream.slice(0, cut)), ...parser.feed(stream.slice(cut))];
    assert.deepEqual(messages, expected, `split at ${cut}`);
  }
});

test('a CRLF split across chunks is one line end, not an empty line', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.feed('data: a\r'), []);
  assert.deepEqual(parser.feed('\ndata: b\r'), []);
  assert.deepEqual(parser.feed('\n\r\n'), [{ event: 'message', data: 'a\nb', lastEventId: '' }]);
});
