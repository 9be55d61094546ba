import { projectStream, taskIdOf, type AnyEventInput } from '@agentwire/protocol';
import { createGateway, type Gateway } from '../gateway.js';
import type { GatewayOptions } from '../gateway-options.js';
import { mintToken, type MintClaims } from '../auth/mint.js';

/**
 * Shared by the security tests: a gateway with auth on, two projects with one task each, and a
 * way to mint tokens for any claims. Not a test file itself.
 */
export const SECRET = 'test-secret-test-secret-test-secret-0123456789';
export const PRODUCER_KEY = 'awk_test_producer_key_0123456789abcdef';

export const A = { project: 'alpha', task: 'task:a1' };
export const B = { project: 'beta', task: 'task:b1' };

export function token(claims: Partial<MintClaims> & { sub?: string }, ttlSeconds = 600): Promise<string> {
  return mintToken(SECRET, { sub: 'user-a', ...claims }, ttlSeconds);
}

/** Tokens for the usual cast: viewers and operators of project A, and an admin. */
export async function cast() {
  return {
    viewerA: await token({ sub: 'viewer-a', role: 'viewer', projects: [A.project] }),
    operatorA: await token({ sub: 'operator-a', role: 'operator', projects: [A.project] }),
    admin: await token({ sub: 'root', role: 'admin' }),
    publisherA: await token({ sub: 'producer-a', scope: ['publish'], projects: [A.project] }),
  };
}

export const log = (message: string): AnyEventInput => ({
  type: 'log:entry',
  data: { level: 'info', message },
});
export const spawned = (agentId: string): AnyEventInput => ({
  type: 'agent:spawned',
  data: { agentId, name: agentId },
});

export async function secureGateway(extra: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gw = await createGateway({
    port: 0,
    logLevel: 'silent',
    auth: { secret: SECRET, clockToleranceSeconds: 0, apiKeys: [{ name: 'producer', key: PRODUCER_KEY }] },
    ...extra,
  });
  for (const { project, task } of [A, B]) {
    await gw.publish(task, [
      {
        type: 'task:start',
        data: { taskId: taskIdOf(task)!, title: `secret of ${project}`, projectId: project },
      },
      log(`${project} line 1`),
    ]);
    await gw.publish(projectStream(project), [log(`${project} project news`)]);
  }
  return gw;
}

export async function getJson(
  url: string,
  credential?: string,
  init: RequestInit = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are read field by field
): Promise<{ status: number; body: any }> {
  const headers = new Headers(init.headers);
  if (credential !== undefined) headers.set('authorization', `Bearer ${credential}`);
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // SSE bodies and such stay text.
  }
  return { status: res.status, body };
}
