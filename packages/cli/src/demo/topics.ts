/** One line of inquiry a researcher takes: what it searches for and what it ends up reporting. */
export interface Angle {
  focus: string;
  query: string;
  finding: string;
}

/** A plausible request a user hands the swarm, with everything the agents will "discover". */
export interface Topic {
  title: string;
  projectId?: string;
  kind: string;
  input: Record<string, unknown>;
  angles: Angle[];
  memories: { content: string; source: string }[];
  answer: string;
}

export const projects = ['acme-research', 'support-ops', 'platform-eng'] as const;

export const topics: readonly Topic[] = [
  {
    title: 'Compare vector databases for RAG',
    projectId: 'acme-research',
    kind: 'research',
    input: { corpusSize: '12M chunks', latencyBudgetMs: 50 },
    angles: [
      {
        focus: 'pgvector',
        query: 'pgvector HNSW recall latency 10M vectors',
        finding:
          'pgvector with HNSW reaches 0.95 recall at roughly 18 ms p95 on 10M vectors, and keeps our data in Postgres, but index builds take hours and need a lot of maintenance_work_mem.',
      },
      {
        focus: 'Qdrant',
        query: 'Qdrant benchmark filtered search payload index',
        finding:
          'Qdrant handles filtered search best of the candidates: payload indexes keep p95 under 12 ms with tenant filters, and quantization cuts memory by about four times.',
      },
      {
        focus: 'Weaviate',
        query: 'Weaviate hybrid search BM25 production experience',
        finding:
          'Weaviate ships hybrid BM25 plus vector search out of the box, which matters for our keyword-heavy support docs, though memory use grows quickly past 5M objects.',
      },
      {
        focus: 'Pinecone',
        query: 'Pinecone serverless pricing read units 2025',
        finding:
          'Pinecone serverless is the least work to run; at our query volume read units would cost about 1,400 USD a month, and data leaves our VPC.',
      },
    ],
    memories: [
      {
        content: 'Q2 spike: pgvector IVFFlat recall dropped to 0.81 after bulk inserts without reindexing.',
        source: 'notes/2025-q2-rag-spike.md',
      },
      {
        content: 'Security review requires customer embeddings to stay in eu-west-1.',
        source: 'wiki/security/data-residency',
      },
    ],
    answer:
      'Recommendation: start with Qdrant self-hosted in eu-west-1. It has the best filtered-search latency for our multi-tenant queries and keeps data residency simple. Keep pgvector as the fallback for small tenants, since it needs no new infrastructure. Pinecone is the fastest to adopt but fails the residency requirement, and Weaviate is worth revisiting if hybrid keyword search becomes a priority.',
  },
  {
    title: 'Summarize Q3 incident reports',
    projectId: 'support-ops',
    kind: 'analysis',
    input: { quarter: '2025-Q3', severities: ['sev1', 'sev2'] },
    angles: [
      {
        focus: 'database outages',
        query: 'postmortem sev1 database failover Q3',
        finding:
          'Two of the five sev1 incidents were database failovers that took over 9 minutes because connection pools kept retrying the old primary.',
      },
      {
        focus: 'deploy regressions',
        query: 'incident caused by deploy rollback Q3',
        finding:
          'Deploy regressions caused 7 of 19 sev2 incidents; in every case the canary stage was skipped, and the median rollback took 23 minutes.',
      },
      {
        focus: 'third-party API failures',
        query: 'incident payment provider timeout Q3',
        finding:
          'Provider timeouts from the payment API caused 4 incidents; none of those calls had a circuit breaker, so checkout threads piled up.',
      },
      {
        focus: 'on-call load',
        query: 'pagerduty pages per week Q3 platform rotation',
        finding:
          'The platform rotation averaged 31 pages a week, 60 percent of them non-actionable disk-usage alerts.',
      },
    ],
    memories: [
      {
        content: 'Q2 review action item: enforce canary stage in deploy pipeline (still open).',
        source: 'jira/OPS-2291',
      },
      { content: 'DB failover runbook last tested in March.', source: 'wiki/runbooks/db-failover' },
    ],
    answer:
      'Q3 had 5 sev1 and 19 sev2 incidents. The biggest themes were slow database failovers, deploy regressions that skipped the canary stage, and payment API timeouts without circuit breakers. Three actions would have prevented most of them: make the canary stage mandatory, test the failover runbook monthly with pool reconnect fixes, and add circuit breakers around payment calls. On-call load is also unsustainable: tuning disk alerts would remove about 60 percent of pages.',
  },
  {
    title: 'Draft a migration plan from REST polling to WebSockets',
    projectId: 'platform-eng',
    kind: 'engineering',
    input: { service: 'task-status', currentPollIntervalS: 5 },
    angles: [
      {
        focus: 'connection limits',
        query: 'nginx websocket max connections per worker tuning',
        finding:
          'Our ingress allows 4,096 connections per worker; at 60k concurrent dashboards we need either more workers or a dedicated WebSocket tier.',
      },
      {
        focus: 'reconnect and resume',
        query: 'websocket resume offset epoch missed messages',
        finding:
          'Clients must resume from the last sequence number they saw, or they silently miss updates during deploys; offset plus epoch recovery handles both restarts and history loss.',
      },
      {
        focus: 'proxy configuration',
        query: 'istio virtualservice websocket upgrade timeout',
        finding:
          'The service mesh closes idle upgraded connections after 60 seconds unless the route timeout is raised and the server sends heartbeats.',
      },
      {
        focus: 'fallback to polling',
        query: 'sse long polling fallback corporate proxy websocket blocked',
        finding:
          'About 3 percent of enterprise customers sit behind proxies that block WebSockets, so SSE or long-polling fallback is required.',
      },
    ],
    memories: [
      { content: 'Polling accounts for 38% of API requests to task-status.', source: 'grafana/api-overview' },
      {
        content: 'Previous Socket.IO attempt stalled on mismatched event names between frontend and backend.',
        source: 'notes/2024-ws-retro.md',
      },
    ],
    answer:
      'Plan: 1) Introduce a gateway that streams task events with per-stream sequence numbers, behind a feature flag. 2) Ship the client with resume by sequence and epoch, heartbeats every 15 seconds, and automatic fallback to SSE then polling. 3) Raise mesh route timeouts and add a dedicated WebSocket ingress pool. 4) Migrate dashboards tenant by tenant, then drop the 5-second polling endpoint, which removes about 38 percent of API traffic.',
  },
  {
    title: 'Evaluate LLM providers for customer-support triage',
    projectId: 'acme-research',
    kind: 'research',
    input: { labelledTickets: 2_000, languages: ['en', 'de', 'fr'] },
    angles: [
      {
        focus: 'accuracy',
        query: 'ticket triage accuracy labelled set per model',
        finding:
          'On our 2,000 labelled tickets the top two models reach 91 and 89 percent routing accuracy; smaller models drop to 78 percent on German tickets.',
      },
      {
        focus: 'latency',
        query: 'p95 latency first token provider comparison',
        finding:
          'Median time to first token is under 400 ms for all candidates, but p95 varies from 0.9 to 3.2 seconds under load.',
      },
      {
        focus: 'cost per 1k tickets',
        query: 'token usage per ticket triage prompt cost',
        finding:
          'A triage prompt averages 1,150 input and 60 output tokens, so cost ranges from 0.20 to 3.10 USD per thousand tickets.',
      },
      {
        focus: 'data residency',
        query: 'provider EU data processing zero retention agreement',
        finding:
          'Two providers offer EU-only processing with zero data retention; a third only offers it on the enterprise tier.',
      },
    ],
    memories: [
      {
        content: 'Support leads accept up to 2s triage latency; misrouting costs ~14 min per ticket.',
        source: 'notes/support-sla.md',
      },
    ],
    answer:
      'Use the second-ranked model for triage: 89 percent accuracy is within two points of the best, its p95 latency stays under 1 second, it costs about 0.40 USD per thousand tickets, and it offers EU-only processing with zero retention. Route German tickets with low confidence to the larger model. At 14 minutes saved per correct routing, the pilot pays for itself in the first week.',
  },
  {
    title: 'Investigate checkout latency spike on 12 Nov',
    projectId: 'platform-eng',
    kind: 'analysis',
    input: { window: '2025-11-12T14:00Z/15:30Z', service: 'checkout' },
    angles: [
      {
        focus: 'payment gateway latency',
        query: 'checkout span payment.authorize p99 2025-11-12',
        finding:
          'payment.authorize p99 rose from 480 ms to 4.1 s at 14:07, matching the provider status page incident in eu-central.',
      },
      {
        focus: 'database locks',
        query: 'pg_locks orders table 2025-11-12 14:00',
        finding:
          'Lock waits on the orders table tripled while a backfill migration ran, adding about 300 ms to order creation.',
      },
      {
        focus: 'CDN cache misses',
        query: 'cdn cache hit ratio checkout assets 2025-11-12',
        finding: 'The CDN hit ratio stayed at 97 percent; static assets are not part of the problem.',
      },
    ],
    memories: [
      {
        content: 'Backfill jobs must run outside 12:00-18:00 UTC (peak checkout).',
        source: 'wiki/ops/maintenance-windows',
      },
    ],
    answer:
      'Root cause: the payment provider degraded in eu-central from 14:07 to 15:22, pushing authorize p99 to 4.1 seconds. A backfill migration running during peak hours made it worse by adding lock waits on the orders table. The CDN was not involved. Actions: add a timeout and circuit breaker with fallback to the secondary provider, and enforce the maintenance window for backfills in the job scheduler.',
  },
  {
    title: 'Analyse churn drivers from NPS comments',
    projectId: 'support-ops',
    kind: 'analysis',
    input: { comments: 4_812, period: 'last 6 months' },
    angles: [
      {
        focus: 'pricing',
        query: 'nps detractor comments price expensive seats',
        finding:
          'Pricing appears in 22 percent of detractor comments, mostly about per-seat cost for occasional users.',
      },
      {
        focus: 'onboarding friction',
        query: 'nps comments setup confusing onboarding first week',
        finding:
          'Onboarding complaints cluster around SSO setup and importing existing projects; accounts that never finish import churn at three times the average rate.',
      },
      {
        focus: 'missing integrations',
        query: 'nps comments integration jira slack missing',
        finding:
          'The most requested missing integrations are Jira Cloud two-way sync and Microsoft Teams notifications.',
      },
      {
        focus: 'support response time',
        query: 'nps comments support slow response',
        finding:
          'Slow support is mentioned by 9 percent of detractors, almost all on the free tier with 48-hour response targets.',
      },
    ],
    memories: [
      {
        content: 'Viewer seats pilot (free read-only seats) reduced churn 11% in the test cohort.',
        source: 'notes/pricing-pilot-2025.md',
      },
    ],
    answer:
      'The strongest churn drivers are an unfinished onboarding (three times the churn rate when project import is not completed) and per-seat pricing for occasional users. Recommended: guided import with SSO checks in the first session, roll out free viewer seats (the pilot cut churn by 11 percent), and prioritise Jira two-way sync. Support speed matters mainly on the free tier and is a lower priority.',
  },
  {
    title: 'Review open-source licences in the dependency tree',
    projectId: 'platform-eng',
    kind: 'engineering',
    input: { repos: 14, ecosystems: ['npm', 'pypi'] },
    angles: [
      {
        focus: 'copyleft licences',
        query: 'dependency tree GPL AGPL transitive npm',
        finding:
          'One transitive dependency of the PDF exporter is AGPL-3.0; it ships in the hosted product, so it must be replaced or isolated.',
      },
      {
        focus: 'unlicensed packages',
        query: 'packages without license field npm audit',
        finding:
          'Six packages have no licence field; four are internal forks that just need a licence file, two are abandoned and should be removed.',
      },
      {
        focus: 'attribution requirements',
        query: 'apache-2.0 NOTICE file attribution bundle',
        finding:
          'Apache-2.0 NOTICE files are not included in the desktop app bundle, which the licence requires.',
      },
    ],
    memories: [
      {
        content: 'Legal pre-approved MIT, BSD-2/3, Apache-2.0, ISC, MPL-2.0 (file-level).',
        source: 'wiki/legal/oss-policy',
      },
    ],
    answer:
      'Of 2,317 dependencies, all but nine use pre-approved licences. Action needed: replace the AGPL-licensed PDF library (two maintained MIT alternatives exist), add licence files to four internal forks, remove two abandoned packages, and include Apache NOTICE files in the desktop bundle. A licence check in CI would stop new violations.',
  },
  {
    title: 'Competitive brief: agent observability tools',
    projectId: 'acme-research',
    kind: 'research',
    input: { competitors: 5, audience: 'product leadership' },
    angles: [
      {
        focus: 'tracing features',
        query: 'llm agent tracing spans tool calls comparison',
        finding:
          'All five tools trace LLM and tool calls; only two show live progress while a run is in flight, the rest show traces after completion.',
      },
      {
        focus: 'pricing models',
        query: 'agent observability pricing per trace per seat',
        finding:
          'Pricing is per trace or per span for four of five, which gets expensive for long multi-agent runs; one charges per seat.',
      },
      {
        focus: 'self-hosting',
        query: 'self-hosted llm observability open source license',
        finding:
          'Three offer self-hosting, but two of those need ClickHouse plus Kafka, which is heavy for small teams.',
      },
    ],
    memories: [
      {
        content: 'Customer interviews: 7 of 10 asked to watch agents live and intervene (cancel, answer).',
        source: 'research/interviews-2025-10',
      },
    ],
    answer:
      'The market is crowded for after-the-fact tracing but thin for live, two-way agent monitoring: only two tools stream progress while a run is in flight, and none let watchers answer an agent question. Our edge is live streams with resume and human-in-the-loop commands, self-hostable as a single binary. Position against per-span pricing with predictable per-gateway pricing.',
  },
  {
    title: 'Triage flaky tests in the payments service',
    projectId: 'platform-eng',
    kind: 'engineering',
    input: { failingTests: 27, window: 'last 30 days' },
    angles: [
      {
        focus: 'timing-dependent tests',
        query: 'ci flaky tests sleep timeout payments',
        finding:
          'Eleven flaky tests wait on fixed sleeps of 100 to 500 ms for asynchronous webhooks; replacing them with polling for the condition fixes them.',
      },
      {
        focus: 'shared fixtures',
        query: 'test isolation shared database fixture order dependent',
        finding:
          'Nine tests fail only when run after the refund suite, because they share a merchant fixture whose balance the refund tests change.',
      },
      {
        focus: 'network mocks',
        query: 'unmocked http call test payments sandbox',
        finding:
          'Seven tests hit the payment sandbox for real and fail whenever it is slow; recording the responses removes the dependency.',
      },
    ],
    memories: [
      {
        content: 'CI retries hide ~40 flaky failures a week; each retry adds 6 min to the pipeline.',
        source: 'grafana/ci-health',
      },
    ],
    answer:
      'All 27 flaky tests fall into three fixable groups: fixed sleeps waiting for webhooks (11), a shared merchant fixture mutated by the refund suite (9), and real calls to the payment sandbox (7). Fixing them in that order removes the CI retries, saving about four hours of pipeline time per week.',
  },
  {
    title: 'Summarize GDPR data-retention obligations for event logs',
    projectId: 'support-ops',
    kind: 'research',
    input: { dataTypes: ['event logs', 'support transcripts'], regions: ['EU'] },
    angles: [
      {
        focus: 'retention limits',
        query: 'GDPR storage limitation article 5 logs retention period',
        finding:
          'GDPR sets no fixed period; logs must be kept no longer than needed for their stated purpose, and the period must be documented.',
      },
      {
        focus: 'erasure requests',
        query: 'right to erasure append-only logs pseudonymisation',
        finding:
          'Append-only logs can satisfy erasure requests if personal data is pseudonymised and the key is deleted on request.',
      },
      {
        focus: 'support transcripts',
        query: 'support chat transcript retention personal data',
        finding:
          'Support transcripts contain free-text personal data, so they need the shortest retention and redaction before analytics use.',
      },
    ],
    memories: [
      {
        content: 'Current policy: event logs kept 400 days, transcripts indefinitely (flagged by DPO).',
        source: 'wiki/legal/retention-register',
      },
    ],
    answer:
      'Document a purpose and retention period for each log type: 90 days for raw event logs with personal data, 400 days for pseudonymised aggregates, and 12 months for support transcripts with redaction before analytics. Handle erasure in append-only logs by deleting per-user pseudonymisation keys. The indefinite transcript retention flagged by the DPO is the most urgent fix.',
  },
];
