// Node-only: provides navigator.gpu from the `webgpu` (Dawn) package so gpu.js's webgpu mode can run
// outside a browser. Loaded by dynamic import only, so renderer bundles never pull in dawn.node.
// On a GPU-less machine Dawn's OpenGL backend over Mesa llvmpipe gives a compatibility-level
// software adapter (needs EGL_PLATFORM=surfaceless and the Mesa EGL/GLES packages).

interface AdapterOptions {
  featureLevel?: string;
  [key: string]: unknown;
}
interface NodeGpu {
  requestAdapter(options?: AdapterOptions): Promise<unknown>;
}

export interface NodeWebGpuResult {
  ok: boolean;
  /** Which Dawn backend answered, e.g. 'opengl (compatibility)'. */
  backend?: string;
  reason?: string;
}

let installed: Promise<NodeWebGpuResult> | null = null;

/** Installs navigator.gpu once per process; later calls return the first answer. */
export function installNodeWebGpu(): Promise<NodeWebGpuResult> {
  installed ??= install();
  return installed;
}

async function install(): Promise<NodeWebGpuResult> {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  let mod: { create(options: string[]): NodeGpu; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    return { ok: false, reason: `the webgpu package did not load: ${(e as Error).message}` };
  }
  // gpu.js reads GPUBufferUsage, GPUMapMode, … as globals; never overwrite ones that already exist
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (g[k] === undefined) g[k] = v;
  let gpu: NodeGpu;
  try {
    gpu = mod.create(['backend=opengl']);
  } catch (e) {
    return { ok: false, reason: `Dawn could not start its OpenGL backend: ${(e as Error).message}` };
  }
  // gpu.js requests a default adapter; llvmpipe's GLES only qualifies at the compatibility level
  const request = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = (options?: AdapterOptions) =>
    request({ featureLevel: 'compatibility', ...(options ?? {}) });
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) {
    return {
      ok: false,
      reason:
        'Dawn (OpenGL backend, compatibility level) found no adapter; install Mesa EGL/GLES (libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)',
    };
  }
  const nav = g.navigator as Record<string, unknown> | undefined;
  if (nav === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  return { ok: true, backend: 'opengl (compatibility)' };
}
