// `pnpm --filter igord start -- <args>` (SPEC §9, §14). pnpm runs package
// scripts in the package's own directory; relative paths on the command line
// (and the default ./igor-data) must mean the directory the user ran pnpm in,
// which pnpm passes as INIT_CWD. The package script builds first (turbo), then
// runs this file.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD)
await import('../dist/cli.js')
