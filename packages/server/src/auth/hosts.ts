import { isIP } from 'node:net';

/**
 * Which `Host` names the gateway answers to: the guard against DNS rebinding. A page on
 * `evil.example` whose name is re-pointed at the gateway's address is, to the browser, same-origin
 * with `http://evil.example:7070`; its requests reach the gateway with `Host: evil.example:7070`
 * (and often no `Origin` at all). Names nobody configured are therefore refused outright, whatever
 * the `Origin` says.
 *
 * Served without configuration: IP literals (a rebinding needs a name the attacker controls),
 * `localhost` and `*.localhost`, the name the gateway is bound to and the machine's host name. Everything else must be
 * listed: the host of `publicUrl`, and `allowedHosts` entries (`agents.example.com`, or
 * `.example.com` for it and every subdomain; `*` turns the check off).
 */
export class HostPolicy {
  private readonly any: boolean;
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(allowedHosts: readonly string[] = []) {
    this.any = allowedHosts.includes('*');
    for (const entry of allowedHosts) this.add(entry);
  }

  /** Adds a name the gateway serves (the bound host, the public URL's host). */
  add(entry: string): void {
    const name = entry.trim().toLowerCase().replace(/\.$/, '');
    if (name === '' || name === '*') return;
    if (name.startsWith('.')) this.suffixes.push(name);
    else this.exact.add(hostnameOf(name) ?? name);
  }

  /**
   * Whether a request addressed to `host` (the `Host` header, port included) is for this gateway.
   * A request without `Host` (HTTP/1.0) cannot come from a browser page and passes.
   */
  allows(host: string | undefined): boolean {
    if (host === undefined || this.any) return true;
    const name = hostnameOf(host);
    if (name === undefined) return false;
    if (isIP(name.replace(/^\[|\]$/g, '')) !== 0) return true;
    if (name === 'localhost' || name.endsWith('.localhost')) return true;
    if (this.exact.has(name)) return true;
    return this.suffixes.some((s) => name.endsWith(s) || name === s.slice(1));
  }
}

/** The lower-case host name of a `Host` value (`name:port`, `[v6]:port`), or undefined when malformed. */
function hostnameOf(host: string): string | undefined {
  if (host.length > 300) return undefined;
  try {
    const url = new URL(`http://${host}`);
    if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '')
      return undefined;
    return url.hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}
