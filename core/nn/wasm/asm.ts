// The assembler moved to core/util/wasm-asm.ts so the simulator's kernels can use it too.
export * from '../../util/wasm-asm';
