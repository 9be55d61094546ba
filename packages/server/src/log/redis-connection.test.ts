import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../config-error.js';
import { parseRedisUrl, redactRedisUrl } from './redis-connection.js';

describe('parseRedisUrl', () => {
  it('passes one server through as it is, TLS included', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379'), {
      kind: 'server',
      url: 'redis://127.0.0.1:6379',
    });
    assert.deepEqual(parseRedisUrl('rediss://:pw@redis.example.com:6380/2'), {
      kind: 'server',
      url: 'rediss://:pw@redis.example.com:6380/2',
    });
  });

  it('turns a Sentinel URL into sentinels, a master name and credentials', () => {
    assert.deepEqual(
      parseRedisUrl('redis+sentinel://app:s%40cret@10.0.0.1:26379,10.0.0.2:26380,[::1]/my%20primary?db=3'),
      {
        kind: 'sentinel',
        options: {
          sentinels: [
            { host: '10.0.0.1', port: 26379 },
            { host: '10.0.0.2', port: 26380 },
            { host: '::1', port: 26379 },
          ],
          name: 'my primary',
          tls: false,
          username: 'app',
          password: 's@cret',
          db: 3,
        },
      },
    );
    const tls = parseRedisUrl('rediss+sentinel://:pw@s1:1,s2:2/mymaster?sentinelPassword=x');
    assert.deepEqual(tls, {
      kind: 'sentinel',
      options: {
        sentinels: [
          { host: 's1', port: 1 },
          { host: 's2', port: 2 },
        ],
        name: 'mymaster',
        tls: true,
        password: 'pw',
        sentinelPassword: 'x',
      },
    });
  });

  for (const [url, why] of [
    ['127.0.0.1:6379', /must start with/],
    ['http://127.0.0.1:6379', /scheme must be/],
    ['redis://', /no host/],
    ['redis://h:1/abc', /database number/],
    ['redis+sentinel://h1:26379,h2:26379', /name the master/],
    ['redis+sentinel://h1:26379/', /name the master/],
    ['redis+sentinel://h1:99999/m', /out of range/],
    ['redis+sentinel://h1:x/m', /not host:port/],
    ['redis+sentinel://h1,,h2/m', /not host:port/],
    ['redis+sentinel://h1/m?db=one', /db must be/],
    ['redis+sentinel://h1/m?timeout=3', /unknown parameter "timeout"/],
    ['redis-cluster://h1:7000,h2:7001', /Redis Cluster is not supported/],
    ['redis://h1:7000,h2:7001,h3:7002', /look like a Redis Cluster/],
  ] as const) {
    it(`refuses ${url} with a ConfigError`, () => {
      assert.throws(
        () => parseRedisUrl(url),
        (err: unknown) => err instanceof ConfigError && why.test(err.message),
      );
    });
  }

  it('keeps passwords out of its messages', () => {
    assert.throws(
      () => parseRedisUrl('redis+sentinel://u:topsecret@h1:1/m?sentinelPassword=alsosecret&bad=1'),
      (err: unknown) =>
        err instanceof ConfigError &&
        !/topsecret|alsosecret/.test(err.message) &&
        /u:\*\*\*@/.test(err.message),
    );
    assert.equal(redactRedisUrl('redis://:pw@h:1'), 'redis://:***@h:1');
    assert.equal(redactRedisUrl('redis://h:1'), 'redis://h:1');
  });
});
