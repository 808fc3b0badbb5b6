// The dashboard: counts of every type of integration as they happen (collector.ts, an
// observer), summed by period with change against the one before (summary.ts).
export { collectorDefaults, createCollector, describeFailure, type Collector, type CollectorOptions, type CollectorSources } from './collector.ts';
export { PERIODS, TYPES, summarize, windowOf, type CodeSummary, type FailureRow, type Period, type Summary, type TypeSummary, type Window } from './summary.ts';
