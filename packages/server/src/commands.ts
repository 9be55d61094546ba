import { AgentwireError, type Command } from '@agentwire/protocol';

/** Who sent a command, for the events that record its effect. */
export interface CommandSender {
  subject?: string;
  connection?: string;
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
