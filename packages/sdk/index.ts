// AssemblyScript resolves `@igor/sdk` to this file (asc looks for <package>/index.ts).
export * from "./assembly/index";
