// SPEC §14 metrics: label values, kept apart from prom-client so the start path and the network need not load it.

export const MIGRATION_OUTCOMES = ['completed', 'refused', 'unknown', 'failed'] as const
export type MigrationOutcome = typeof MIGRATION_OUTCOMES[number]

/** A migration error's code → the outcome label: refused by the target, outcome unknown, or failed before anything moved. */
export function migrationOutcome(error: unknown): MigrationOutcome {
  const code = (error as { code?: string }).code
  if (code === 'REJECTED') return 'refused'
  if (code === 'OUTCOME_UNKNOWN') return 'unknown'
  return 'failed'
}

/** The status `halted` text → a small, fixed set of label values (the text itself carries ids and numbers). */
export function haltClass(reason: string): string {
  if (reason.startsWith('budget exhausted')) return 'budget_exhausted'
  if (reason.startsWith('budget not valid')) return 'budget_not_valid'
  if (reason.startsWith('waiting for a node within max price') || reason.startsWith('node price above max_price_per_second')) return 'price_hold'
  if (reason.startsWith('lease expired')) return 'lease_expired'
  if (reason.startsWith('tick failed')) return 'tick_failed'
  if (reason.startsWith('start failed')) return 'start_failed'
  if (/quarantin/i.test(reason)) return 'quarantined'
  if (/hand-?off|target may hold|recover/i.test(reason)) return 'recovery_required'
  if (reason.startsWith('retired')) return 'retired'
  if (reason.startsWith('stopped')) return 'stopped'
  return 'other'
}
