// SPEC §15 payments: how many a file, a sidecar or a package may hold (ours).
export const MAX_PAYMENTS_IN_BLOB = 1_000_000
