import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../gateway.js';
import { A, secureGateway, token } from '../../testing/auth-kit.js';
import { SioProbe } from '../../testing/sio-probe.js';

/** Seed 003's `admin` room carries the system stream and every room's joins with user ids. */
describe('flask-dashboard dialect (seed 003): the admin room is for admins', () => {
  let gw: Gateway;
  before(async () => {
    gw = await secureGateway();
  });
  after(() => gw.close());

  const open = async (sub: string, role: 'viewer' | 'operator' | 'admin') =>
    SioProbe.open(gw.url, {
      path: '/dashboard/socket.io',
      transports: ['websocket'],
      auth: { token: await token({ sub, role, projects: [A.project] }) },
    });

  it('refuses join_room admin to a viewer and an operator with forbidden; they hear nobody join', async () => {
    for (const role of ['viewer', 'operator'] as const) {
      const snoop = await open(`snoop-${role}`, role);
      const reply = (await snoop.socket.emitWithAck('join_room', { room: 'admin' })) as {
        ok: boolean;
        error?: { code: string };
      };
      assert.equal(reply.ok, false, role);
      assert.equal(reply.error?.code, 'forbidden', role);
      // Someone else joins a room: the snoop is in no room that would tell it who.
      const other = await open(`other-${role}`, 'viewer');
      assert.deepEqual(await other.socket.emitWithAck('join_room', 'chat'), { ok: true, room: 'chat' });
      const admin = await open(`admin-${role}`, 'admin');
      assert.deepEqual(await admin.socket.emitWithAck('join_room', 'admin'), { ok: true, room: 'admin' });
      assert.deepEqual(await other.socket.emitWithAck('leave_room', 'chat'), { ok: true, room: 'chat' });
      await admin.until(() => admin.of('user_left').some((p) => p.user_id === `other-${role}`));
      assert.deepEqual(snoop.of('user_joined'), [], role);
      assert.deepEqual(snoop.of('user_left'), [], role);
      for (const p of [snoop, other, admin]) p.close();
    }
  });

  it('an admin joins it and hears who joins and leaves every room', async () => {
    const admin = await open('root-watch', 'admin');
    assert.deepEqual(await admin.socket.emitWithAck('join_room', 'admin'), { ok: true, room: 'admin' });
    const user = await open('joiner', 'viewer');
    await user.socket.emitWithAck('join_room', 'monitoring');
    const joined = await admin.waitFor<{ user_id: string; room: string }>('user_joined');
    assert.deepEqual([joined.user_id, joined.room], ['joiner', 'monitoring']);
    admin.close();
    user.close();
  });
});
