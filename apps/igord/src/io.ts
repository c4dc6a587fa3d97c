/** Where a client subcommand writes: the process's stdout and stderr, or a test's buffers. */
export interface Io {
  stdout: (text: string) => void
  stderr: (text: string) => void
}
