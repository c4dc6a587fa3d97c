/**
 * Crash-safe replacement of a file (SPEC §5 checkpoint store, §12 identity
 * file): one implementation for every file the node must never tear.
 */
export { AtomicFileError } from './errors.js'
export { DirectorySyncGroup } from './coalesce.js'
export type { DirectoryFsync } from './coalesce.js'
export { DIR_MODE, FILE_MODE, TEMP_SUFFIX, directorySyncs, fsyncDirectory, fsyncDirectoryUnshared, removeStaleTemporaries, writeFileAtomic } from './write.js'
export type { WriteOptions } from './write.js'
