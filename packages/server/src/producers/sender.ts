import type { CommandSender } from '../commands.js';

/**
 * Who a command's effect event names (`by`, `from`): the authenticated subject when there is one,
 * else the connection it came over, which at least tells two anonymous watchers apart.
 */
export function senderName(sender: CommandSender): string | undefined {
  const name =
    sender.subject ?? (sender.connection === undefined ? undefined : `connection:${sender.connection}`);
  return name?.slice(0, 256);
}
