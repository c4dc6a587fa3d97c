// SPEC §16 Placement and the price scan: the public names of src/placement.
export { PLACEMENT_ATTEMPTS_PER_TARGET, PLACEMENT_BACKOFF_BASE_MS, PLACEMENT_BACKOFF_CAP_MS, backoffMs } from './backoff.js'
export { MAX_RECENT_FAILURES, byPlacementOrder, selectCandidates, type PassedOver, type PlacementNeeds } from './candidates.js'
export { TRANSIENT_REFUSALS, classifyAttempt, type AttemptClass, type Classified } from './classify.js'
export { placeAgent, type AttemptRecord, type PlacementDeps, type PlacementEvent, type PlacementOutcome, type PlacementReport, type TargetRecord } from './place.js'
export { DEFAULT_SCAN_CONCURRENCY, DEFAULT_SCAN_INTERVAL_MS, PriceScanner, SCAN_REUSE_MS, freeSlotsOf, type PriceScanOptions, type ScanOutcome } from './scan.js'
export { passedOverReason, placementSummary, progressLine } from './summary.js'
