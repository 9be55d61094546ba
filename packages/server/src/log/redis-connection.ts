import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../config-error.js';

/**
 * Where a Redis is, as the operator wrote it: one server (`redis://`, `rediss://` for TLS), or a
 * primary found through Sentinel (`redis+sentinel://`, `rediss+sentinel://`), which every
 * connection asks again after a failover.
 */
export type RedisTarget = { kind: 'server'; url: string } | { kind: 'sentinel'; options: SentinelTarget };

/** The ioredis options a Sentinel URL stands for. */
export interface SentinelTarget {
  sentinels: { host: string; port: number }[];
  /** The master name the sentinels monitor (`sentinel monitor <name> …`). */
  name: string;
  db?: number;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  tls: boolean;
}

const DEFAULT_SENTINEL_PORT = 26379;
const SENTINEL_SCHEMES = new Map([
  ['redis+sentinel:', false],
  ['rediss+sentinel:', true],
]);
const CLUSTER_HINT =
  'Redis Cluster is not supported: one append script touches keys of its stream and keys shared by every stream. ' +
  'Use one primary with replicas and Sentinel (redis+sentinel://host1:26379,host2:26379/<masterName>), ' +
  'or a managed primary with failover (docs/scaling.md, "Redis Cluster").';

/**
 * Parses a Redis URL given to `--redis-url` or `EngineConfig.url`. Malformed URLs, unknown
 * schemes and cluster-looking URLs fail here with a `ConfigError`, before any connection is
 * tried, so the operator reads what is wrong instead of a connection timeout.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined)
    throw configError(url, 'it must start with redis://, rediss:// or redis+sentinel://');
  if (/cluster/.test(scheme)) throw configError(url, CLUSTER_HINT);
  const tls = SENTINEL_SCHEMES.get(scheme);
  if (tls !== undefined) return { kind: 'sentinel', options: parseSentinelUrl(url, scheme, tls) };
  if (scheme !== 'redis:' && scheme !== 'rediss:')
    throw configError(url, 'its scheme must be redis://, rediss://, redis+sentinel:// or rediss+sentinel://');
  const authority = authorityOf(url, scheme);
  if (authority.hosts.includes(','))
    throw configError(url, `several hosts in one redis:// URL look like a Redis Cluster. ${CLUSTER_HINT}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw configError(url, 'it is not a valid URL');
  }
  if (parsed.hostname === '') throw configError(url, 'it names no host');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db))
    throw configError(url, `its path must be a database number, not "${db}"`);
  return { kind: 'server', url };
}

/**
 * Opens (lazily, as `options.lazyConnect` says) one connection to the target's primary. For
 * Sentinel, ioredis asks the sentinels for the primary on every (re)connection: a primary that
 * dies drops its connections, and they reconnect to the one promoted. A primary demoted while
 * alive refuses writes with READONLY, which reconnects the same way. ioredis's `failoverDetector`
 * (watching `+switch-master`) stays off: with ioredis 6.0 its sentinel connections were still
 * open, and reconnecting, after the gateway had quit.
 */
export function connectRedis(target: RedisTarget | string, options: RedisOptions): Redis {
  const resolved = typeof target === 'string' ? parseRedisUrl(target) : target;
  if (resolved.kind === 'server') return new Redis(resolved.url, options);
  const s = resolved.options;
  return new Redis({
    ...options,
    sentinels: s.sentinels,
    name: s.name,
    ...(s.db !== undefined && { db: s.db }),
    ...(s.username !== undefined && { username: s.username }),
    ...(s.password !== undefined && { password: s.password }),
    ...(s.sentinelUsername !== undefined && { sentinelUsername: s.sentinelUsername }),
    ...(s.sentinelPassword !== undefined && { sentinelPassword: s.sentinelPassword }),
    ...(s.tls && { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }),
    // 1: reconnect (through the sentinels) and fail the command, which the log refuses with
    // storage_unavailable; the producer's retry then reaches the new primary.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
  });
}

function parseSentinelUrl(url: string, scheme: string, tls: boolean): SentinelTarget {
  const { userinfo, hosts, rest } = authorityOf(url, scheme);
  const sentinels = hosts.split(',').map((h) => parseHostPort(url, h));
  const match = /^\/([^/?#]+)\/?(?:\?([^#]*))?(?:#.*)?$/.exec(rest);
  if (!match)
    throw configError(
      url,
      'it must name the master after the hosts: redis+sentinel://host:port,…/<masterName>',
    );
  const name = decode(url, match[1]!);
  const target: SentinelTarget = { sentinels, name, tls };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = decode(url, colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (colon >= 0) target.password = decode(url, userinfo.slice(colon + 1));
    if (user !== '') target.username = user;
  }
  for (const [key, value] of new URLSearchParams(match[2] ?? '')) {
    if (key === 'db') {
      if (!/^\d{1,5}$/.test(value)) throw configError(url, `db must be a database number, not "${value}"`);
      target.db = Number(value);
    } else if (key === 'sentinelUsername') target.sentinelUsername = value;
    else if (key === 'sentinelPassword') target.sentinelPassword = value;
    else throw configError(url, `unknown parameter "${key}" (known: db, sentinelUsername, sentinelPassword)`);
  }
  return target;
}

/** Splits `scheme://[userinfo@]hosts<rest>` without URL's host rules, which refuse `a:1,b:2`. */
function authorityOf(url: string, scheme: string): { userinfo?: string; hosts: string; rest: string } {
  const afterScheme = url.slice(scheme.length + 2);
  const end = afterScheme.search(/[/?#]/);
  const authority = end < 0 ? afterScheme : afterScheme.slice(0, end);
  const rest = end < 0 ? '' : afterScheme.slice(end);
  const at = authority.lastIndexOf('@');
  const hosts = at < 0 ? authority : authority.slice(at + 1);
  if (hosts === '') throw configError(url, 'it names no host');
  return at < 0 ? { hosts, rest } : { userinfo: authority.slice(0, at), hosts, rest };
}

function parseHostPort(url: string, text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw configError(url, `"${text}" is not host:port`);
  const port = m[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[3]);
  if (port < 1 || port > 65535) throw configError(url, `port ${port} is out of range`);
  return { host: m[1] ?? m[2]!, port };
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw configError(url, `"${text}" is not valid percent-encoding`);
  }
}

function configError(url: string, why: string): ConfigError {
  return new ConfigError(`Invalid Redis URL ${redactRedisUrl(url)}: ${why.replace(/\.$/, '')}.`);
}

/** The URL with its passwords replaced by stars; `URL` cannot parse a Sentinel URL's host list. */
export function redactRedisUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_all, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return `${scheme}${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;
    })
    .replace(/([?&]sentinelPassword=)[^&#]*/g, '$1***');
}
