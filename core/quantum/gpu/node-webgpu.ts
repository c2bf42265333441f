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
  /** Which Dawn backend answered, e.g. 'vulkan' or 'opengl (compatibility)'. */
  backend?: string;
  /** What the adapter says it is (e.g. 'NVIDIA H100 80GB HBM3', 'llvmpipe …'), when it says. */
  adapter?: string;
  reason?: string;
}

/** Dawn backends, in the order `auto` tries them. */
export type DawnBackend = 'vulkan' | 'opengl';

let installed: Promise<NodeWebGpuResult> | null = null;

/** Installs navigator.gpu once per process; later calls return the first answer. */
export function installNodeWebGpu(): Promise<NodeWebGpuResult> {
  installed ??= install();
  return installed;
}

const VULKAN_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib64',
];

/**
 * The backends to try: `QLAB_DAWN_BACKEND` (vulkan, opengl or auto). `auto` tries Vulkan first where a Vulkan
 * loader (libvulkan.so.1) is installed — a real GPU's driver — and then OpenGL, which on a machine without a GPU
 * is Mesa llvmpipe (Dawn rejects Mesa's lavapipe).
 */
export function dawnBackends(
  env: Record<string, string | undefined>,
  hasFile: (path: string) => boolean,
): DawnBackend[] {
  const asked = (env.QLAB_DAWN_BACKEND ?? 'auto').trim().toLowerCase();
  if (asked === 'vulkan' || asked === 'opengl') return [asked];
  if (asked !== 'auto' && asked !== '')
    throw new Error(`QLAB_DAWN_BACKEND: expected vulkan, opengl or auto, got ${JSON.stringify(asked)}`);
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...VULKAN_DIRS];
  const vulkan = dirs.some((d) => hasFile(`${d}/libvulkan.so.1`));
  return vulkan ? ['vulkan', 'opengl'] : ['opengl'];
}

interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

function describe(adapter: unknown): string | undefined {
  const info = (adapter as { info?: AdapterInfo } | null)?.info;
  if (!info) return undefined;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
  return parts.length > 0 ? parts.join(' · ') : undefined;
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
  const { existsSync } = await import('node:fs');
  let backends: DawnBackend[];
  try {
    backends = dawnBackends(process.env, existsSync);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const reasons: string[] = [];
  for (const backend of backends) {
    let gpu: NodeGpu;
    try {
      gpu = mod.create([`backend=${backend}`]);
    } catch (e) {
      reasons.push(`Dawn could not start its ${backend} backend: ${(e as Error).message}`);
      continue;
    }
    if (backend === 'opengl') {
      // gpu.js requests a default adapter; llvmpipe's GLES only qualifies at the compatibility level
      const request = gpu.requestAdapter.bind(gpu);
      gpu.requestAdapter = (options?: AdapterOptions) =>
        request({ featureLevel: 'compatibility', ...(options ?? {}) });
    }
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) {
      reasons.push(
        backend === 'opengl'
          ? 'Dawn (OpenGL backend, compatibility level) found no adapter; install Mesa EGL/GLES (libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)'
          : 'Dawn (Vulkan backend) found no adapter',
      );
      continue;
    }
    const nav = g.navigator as Record<string, unknown> | undefined;
    if (nav === undefined) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } else {
      Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
    }
    return {
      ok: true,
      backend: backend === 'opengl' ? 'opengl (compatibility)' : backend,
      adapter: describe(adapter),
    };
  }
  return { ok: false, reason: reasons.join('; ') };
}
