import { AgentwireError, type Command } from '@agentwire/protocol';
import type { AuthPrincipal } from './auth/principal.js';

/** Who sent a command, for the events that record its effect. */
export interface CommandSender {
  subject?: string;
  connection?: string;
  /** Who sent it, as authenticated; the gateway checks the command against it before routing. */
  principal?: AuthPrincipal;
}

/**
 * Routes watchers' commands to the producer that owns the task. The gateway asks this for every
 * command on every transport; the default refuses clearly until a producer channel is attached.
 */
export interface CommandRouter {
  dispatch(command: Command, sender: CommandSender): Promise<unknown>;
}

export const noProducerRouter: CommandRouter = {
  async dispatch(command) {
    throw new AgentwireError('no_producer', `No producer is attached to receive ${command.type} commands.`);
  },
};
