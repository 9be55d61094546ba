/**
 * The repository's import rules, checked by `npm run deps` (part of `npm run check`).
 *
 * 1. No import cycles, type-only imports included: a cycle means two modules cannot be read,
 *    tested or moved apart.
 * 2. Packages meet only at their entry points: `@agentwire/<name>` and the subpaths a package
 *    declares in its `exports` (`@agentwire/server/testing`, `@agentwire/cli/demo`). Nothing reaches
 *    into another package's `src/` or `dist/` by a deep or relative path.
 * 3. Packages depend downwards: `@agentwire/protocol` imports no other package; the agent and
 *    client SDKs and the server's shipped code build on the protocol alone.
 * 4. Inside the server, the pipeline producer → ingest → log → hub → edge → subscriber is layered,
 *    and shipped code never imports upwards:
 *    - `log/` (storage) knows nothing of the rest: only `log/`, `error-text` and `logger`.
 *    - `hub/` (fan-out) sits on the log: no auth, producers, cluster, AMQP or edge.
 *    - `auth/` decides, it does not serve: no edge, cluster, AMQP, projects or task list.
 *    - `producers/`, `cluster/` and `amqp/` (the producer side) import no edge code; of the
 *      compatibility surfaces (`surfaces/`) they may import a seed's AMQP mapping
 *      (`surfaces/<seed>/<seed>-amqp.ts`), which is a table that imports nothing of the server.
 *    - Dialects (`surfaces/dialect.ts`, `surfaces/<seed>/<seed>-dialect.ts`, their helpers and
 *      registry) translate; the transports that carry them are above them.
 *    - The edge (`edge/`, `transports/`, `surfaces/`, `http/`, `agui/`, `metrics/`) does not
 *      import the gateway that assembles it, nor its options.
 *    - Only the gateway's assembly (`gateway.ts`, `gateway/`) and the entry point import
 *      `gateway.ts`; shipped code never imports the test support in `testing/`.
 *    Tests and test support (`*.test.ts`, `testing/`, `test-kit.ts`) may import anything within
 *    their package, which is what they are for.
 */

/* global module */

/** A server source file that does not ship as product code. */
const SERVER_TEST = ['\\.test\\.ts$', '^packages/server/src/testing/', '/test-kit\\.ts$'];
const S = '^packages/server/src/';
const EDGE = `${S}(edge|transports|surfaces|http|agui|metrics)/`;
/** A seed's AMQP mapping: a table the producer side reads, inside that seed's surface folder. */
const AMQP_MAPPING = `${S}surfaces/[^/]+/[^/]+-amqp\\.ts$`;
/** A dialect table (or the registry of them, or their helpers): translation, no connections. */
const DIALECT = `${S}surfaces/(dialect|dialect-helpers|[^/]+/[^/]+-dialects?)\\.ts$`;
const GATEWAY = `${S}(gateway\\.ts|gateway-options\\.ts|gateway/|index\\.ts)`;

/** One upward-import rule inside the server; `toNot` exempts some of `to`. */
const layer = (name, comment, from, to, toNot) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from, pathNot: SERVER_TEST },
  to: toNot ? { path: to, pathNot: toNot } : { path: to },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-deep-import',
      comment:
        'Another package is imported only through its entry point or a subpath its package.json exports.',
      severity: 'error',
      from: { path: '^(packages/[^/]+|bench|examples|python)/' },
      to: {
        path: '^packages/[^/]+/',
        pathNot: [
          '^$1/',
          '^packages/[^/]+/dist/index\\.(js|d\\.ts)$',
          '^packages/openai-agents/dist/src/index\\.(js|d\\.ts)$',
          '^packages/dashboard/index\\.(js|d\\.ts)$',
          '^packages/server/dist/testing/index\\.(js|d\\.ts)$',
          '^packages/cli/dist/demo/index\\.(js|d\\.ts)$',
        ],
      },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'Every import resolves (after `tsc -b`): a deep import a package.json `exports` does not allow fails here.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'protocol-stands-alone',
      comment: '@agentwire/protocol is the contract every other package builds on; it imports none of them.',
      severity: 'error',
      from: { path: '^packages/protocol/' },
      to: { path: '^packages/(?!protocol/)' },
    },
    {
      name: 'sdks-on-protocol',
      comment: 'The agent and client SDKs (shipped code) build on the protocol alone.',
      severity: 'error',
      from: { path: '^packages/(agent|client)/src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/(?!protocol/|$1/)' },
    },
    {
      name: 'server-on-protocol',
      comment: "The server's shipped code imports no package but the protocol.",
      severity: 'error',
      from: { path: S, pathNot: SERVER_TEST },
      to: { path: '^packages/(?!protocol/|server/)' },
    },
    layer(
      'server-log-is-storage',
      'The log engines know nothing of what is built on them.',
      `${S}log/`,
      `${S}(?!log/|error-text\\.ts$|logger\\.ts$|config-error\\.ts$)`,
    ),
    layer(
      'server-hub-on-log',
      'The hub fans out what the log commits; it does not know who subscribes or how.',
      `${S}hub/`,
      `${S}(auth|producers|cluster|amqp|projects|task-list|edge|transports|surfaces|http|agui|metrics)/`,
    ),
    layer(
      'server-auth-decides',
      'Auth decides what a caller may do; serving the answer is the edge’s business.',
      `${S}auth/`,
      `${S}(cluster|amqp|projects|task-list|edge|transports|surfaces|http|agui|metrics)/`,
    ),
    layer(
      'server-producer-side',
      'The producer side (channel, cluster, AMQP) does not reach into the edge; a seed’s AMQP mapping is a table, not edge code.',
      `${S}(producers|cluster|amqp)/`,
      EDGE,
      AMQP_MAPPING,
    ),
    layer(
      'server-amqp-mapping-is-a-table',
      'A seed’s AMQP mapping imports nothing of the server, so the producer side may read it.',
      AMQP_MAPPING,
      S,
    ),
    layer(
      'server-dialects-below-transports',
      'A dialect translates events and intents; the transports carrying it sit above it.',
      DIALECT,
      EDGE,
      DIALECT,
    ),
    layer(
      'server-edge-below-gateway',
      'The edge does not import the gateway that assembles it.',
      EDGE,
      GATEWAY,
    ),
    layer(
      'server-gateway-at-top',
      'Only the assembly and the entry point import gateway.ts.',
      `${S}(?!gateway\\.ts$|gateway/|index\\.ts$)`,
      `${S}(gateway\\.ts$|gateway/)`,
    ),
    layer('server-no-test-support', 'Shipped code never imports the test support.', S, `${S}testing/`),
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    doNotFollow: { path: ['node_modules', '/dist/'] },
    exclude: { path: ['(^|/)node_modules/', '^bench/\\.peers/'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['types', 'import', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.d.ts'],
    },
  },
};
