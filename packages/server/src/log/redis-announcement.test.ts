import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAnnouncement } from './redis-announcement.js';

const header = '["node-a","task:1",3,4,"epoch-1"]';
const item = (seq: number, extra = '') =>
  `[${seq},"id-${seq}","log:entry",1700000000000,{"n":${seq}${extra}},null]`;

describe('redis announcements', () => {
  it('parses a header and the events that travel with it', () => {
    const parsed = parseAnnouncement(
      `${header}\n[${item(3)},[4,"id-4","log:entry",1700000000001,"text","tp\\nts"]]`,
    );
    assert.deepEqual(parsed, {
      node: 'node-a',
      stream: 'task:1',
      first: 3,
      last: 4,
      events: [
        {
          stream: 'task:1',
          seq: 3,
          epoch: 'epoch-1',
          id: 'id-3',
          type: 'log:entry',
          time: 1700000000000,
          data: { n: 3 },
        },
        {
          stream: 'task:1',
          seq: 4,
          epoch: 'epoch-1',
          id: 'id-4',
          type: 'log:entry',
          time: 1700000000001,
          data: 'text',
          trace: { traceparent: 'tp', tracestate: 'ts' },
        },
      ],
    });
  });

  it('parses a header alone, and the four-field header of positions-only announcements', () => {
    assert.deepEqual(parseAnnouncement(header), { node: 'node-a', stream: 'task:1', first: 3, last: 4 });
    assert.deepEqual(parseAnnouncement('["node-a","task:1",3,4]'), {
      node: 'node-a',
      stream: 'task:1',
      first: 3,
      last: 4,
    });
  });

  it('refuses a header that is not one', () => {
    for (const bad of [
      '',
      'not json',
      '{"node":"a"}',
      '["a","task:1",3]',
      '["a",7,3,4]',
      '[1,"task:1",3,4]',
      '["a","task:1",0,4]',
      '["a","task:1",4,3]',
      '["a","task:1",3.5,4]',
      '["a","task:1","3",4]',
      `["a","task:1",3,${Number.MAX_SAFE_INTEGER + 2}]`,
    ]) {
      assert.equal(parseAnnouncement(bad), undefined, bad);
    }
  });

  it('keeps the header and drops events that do not match it', () => {
    const position = { node: 'node-a', stream: 'task:1', first: 3, last: 4 };
    for (const events of [
      `[${item(3)}`, // cut short
      `[${item(3)}]`, // fewer than announced
      `[${item(3)},${item(5)}]`, // not the announced seqs
      `[${item(3)},[4,"id-4","log:entry","soon",{},null]]`, // time not a number
      `[${item(3)},[4,4,"log:entry",1,{},null]]`, // id not a string
      `[${item(3)},[4,"id-4","log:entry",1,{},7]]`, // trace not a string
      `[${item(3)},[4,"id-4","log:entry",1,{}]]`, // a field missing
      `{"3":1}`,
    ]) {
      assert.deepEqual(parseAnnouncement(`${header}\n${events}`), position, events);
    }
    // Without an epoch in the header there is nothing to give the events.
    assert.deepEqual(parseAnnouncement(`["node-a","task:1",3,4]\n[${item(3)},${item(4)}]`), position);
  });
});
