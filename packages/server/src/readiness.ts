import type { CheckReport } from '@agentwire/protocol';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckReport>;
}

/**
 * `/readyz`: the node takes traffic only while every dependency it needs works (the log's storage,
 * RabbitMQ when configured, the gateway itself neither starting nor shutting down). Asked afresh
 * on every probe; `/healthz` stays liveness only.
 */
export class Readiness {
  readonly #checks = new Map<string, () => CheckReport>();

  add(name: string, check: () => CheckReport): void {
    this.#checks.set(name, check);
  }

  report(): ReadinessReport {
    const checks: Record<string, CheckReport> = {};
    let ready = true;
    for (const [name, check] of this.#checks) {
      const report = check();
      checks[name] = report;
      if (!report.ok) ready = false;
    }
    return { ready, checks };
  }

  /** One line for the refusal's message: `log (SQLITE_FULL), amqp (detached)`. */
  static describe(report: ReadinessReport): string {
    return Object.entries(report.checks)
      .flatMap(([name, check]) => (check.ok ? [] : [`${name} (${check.cause})`]))
      .join(', ');
  }
}
