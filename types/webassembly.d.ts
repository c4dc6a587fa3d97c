/**
 * The WebAssembly JS API as Node 20 provides it. @types/node 20 does not
 * declare it and the DOM lib would bring the whole browser along, so the
 * subset the runtime uses is declared here (shape as in TypeScript's DOM lib).
 */
declare namespace WebAssembly {
  type ImportExportKind = 'function' | 'global' | 'memory' | 'table' | 'tag'
  interface ModuleExportDescriptor { kind: ImportExportKind, name: string }
  interface ModuleImportDescriptor { kind: ImportExportKind, module: string, name: string }
  type ExportValue = Function | Global | Memory | Table
  type Exports = Record<string, ExportValue>
  type ImportValue = ExportValue | number | bigint
  type ModuleImports = Record<string, ImportValue>
  type Imports = Record<string, ModuleImports>
  type BufferSource = ArrayBufferView | ArrayBuffer

  class Module {
    constructor(bytes: BufferSource)
    static customSections(moduleObject: Module, sectionName: string): ArrayBuffer[]
    static exports(moduleObject: Module): ModuleExportDescriptor[]
    static imports(moduleObject: Module): ModuleImportDescriptor[]
  }
  class Instance {
    constructor(module: Module, importObject?: Imports)
    readonly exports: Exports
  }
  interface MemoryDescriptor { initial: number, maximum?: number, shared?: boolean }
  class Memory {
    constructor(descriptor: MemoryDescriptor)
    readonly buffer: ArrayBuffer
    grow(delta: number): number
  }
  interface TableDescriptor { element: 'anyfunc' | 'externref', initial: number, maximum?: number }
  class Table {
    constructor(descriptor: TableDescriptor, value?: unknown)
    readonly length: number
    get(index: number): unknown
    grow(delta: number, value?: unknown): number
    set(index: number, value?: unknown): void
  }
  interface GlobalDescriptor { mutable?: boolean, value: 'i32' | 'i64' | 'f32' | 'f64' | 'externref' | 'anyfunc' | 'v128' }
  class Global {
    constructor(descriptor: GlobalDescriptor, v?: unknown)
    value: unknown
    valueOf(): unknown
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
  interface WebAssemblyInstantiatedSource { instance: Instance, module: Module }
  function compile(bytes: BufferSource): Promise<Module>
  function instantiate(bytes: BufferSource, importObject?: Imports): Promise<WebAssemblyInstantiatedSource>
  function instantiate(moduleObject: Module, importObject?: Imports): Promise<Instance>
  function validate(bytes: BufferSource): boolean
}
