import type { Logger } from './logger.js';

/** Consecutive failures with the same cause are logged once per this many ms, with a count. */
const REPEAT_LOG_MS = 10_000;

export interface DependencyAlert {
  severity: 'info' | 'warning' | 'critical';
  message: string;
  source: string;
}

/**
 * Tells the operator about one dependency the node needs (the log's storage, RabbitMQ): every
 * failure goes to the log at error level with its cause (a burst of identical ones as one line per
 * ten seconds with a count, so a full disk under load does not flood the log), and each change
 * between working and failing also becomes a `system:alert` where the log can still take one.
 */
export class DependencyWatch {
  #down: { cause: string; since: number } | undefined;
  #lastLogged = 0;
  #lastCause: string | undefined;
  #suppressed = 0;

  constructor(
    /** The readiness check's name: `log`, `amqp`. */
    private readonly name: string,
    /** How people call it in a sentence: `the log storage`. */
    private readonly what: string,
    private readonly logger: Logger,
    private readonly alert: (alert: DependencyAlert) => void,
  ) {}

  /** One failure; `message` may name files and addresses (it goes to the operator's log only). */
  failure(cause: string, message: string, failures?: number): void {
    const now = Date.now();
    if (cause === this.#lastCause && now - this.#lastLogged < REPEAT_LOG_MS) {
      this.#suppressed++;
      return;
    }
    this.logger.error(
      {
        check: this.name,
        cause,
        err: message,
        ...(failures !== undefined && { failures }),
        ...(this.#suppressed > 0 && { repeatedSinceLastLine: this.#suppressed }),
      },
      `${this.what} failed`,
    );
    this.#lastLogged = now;
    this.#lastCause = cause;
    this.#suppressed = 0;
  }

  /** It stopped working (or fails for another reason now): not ready until `up`. */
  down(cause: string, since: number, lasting = false): void {
    if (this.#down?.cause === cause) return;
    this.#down = { cause, since };
    const remedy = lasting ? '; it will not recover by itself' : '; not ready until it recovers';
    this.logger.error({ check: this.name, cause, lasting }, `${this.what} is failing (${cause})${remedy}`);
    this.alert({
      severity: 'critical',
      message: `${capitalize(this.what)} is failing (${cause})${remedy}.`,
      source: `agentwire:${this.name}`,
    });
  }

  up(): void {
    const down = this.#down;
    if (!down) return;
    this.#down = undefined;
    this.#lastCause = undefined;
    const seconds = Math.round((Date.now() - down.since) / 1000);
    this.logger.info(
      { check: this.name, cause: down.cause, downMs: Date.now() - down.since },
      `${this.what} works again; ready`,
    );
    this.alert({
      severity: 'info',
      message: `${capitalize(this.what)} works again after ${seconds} s (${down.cause}).`,
      source: `agentwire:${this.name}`,
    });
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
