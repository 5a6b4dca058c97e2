// Builds the command screen into dashboard/dist/ with esbuild: app.js (one IIFE, minified, with a
// source map), app.css (Leaflet's CSS + ours), index.html, and Leaflet's images. Everything is
// bundled: the hub runs on networks with no CDN. `tsx dashboard/build.ts` or buildDashboard().
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');
export const DIST_DIR = join(here, 'dist');

/**
 * Builds into dashboard/dist and returns that directory. Output names are fixed, so files are
 * overwritten in place rather than the directory wiped: a running hub keeps serving meanwhile.
 */
export async function buildDashboard(opts: { outDir?: string } = {}): Promise<string> {
  const outDir = opts.outDir ?? DIST_DIR;
  await mkdir(outDir, { recursive: true });

  await build({
    entryPoints: [
      { in: join(srcDir, 'main.ts'), out: 'app' },
      { in: join(srcDir, 'app.css'), out: 'app' },
    ],
    outdir: outDir,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    platform: 'browser',
    // Chromium-based wall screens and current desktop browsers.
    target: ['chrome100', 'firefox100', 'safari15'],
    // Leaflet's CSS refers to images/*.png relative to itself; keep those urls as they are and
    // copy the files next to app.css, so L.Icon.Default's path detection keeps working.
    external: ['images/*'],
    legalComments: 'linked',
    logLevel: 'warning',
  });

  const leafletDist = dirname(createRequire(import.meta.url).resolve('leaflet/dist/leaflet.css'));
  await cp(join(leafletDist, 'images'), join(outDir, 'images'), { recursive: true });

  // Cache-busting query from the bundle's content: a redeployed hub never serves a stale screen.
  const js = await readFile(join(outDir, 'app.js'));
  const css = await readFile(join(outDir, 'app.css'));
  const version = createHash('sha256').update(js).update(css).digest('hex').slice(0, 12);
  const html = await readFile(join(srcDir, 'index.html'), 'utf8');
  await writeFile(join(outDir, 'index.html'), html.replaceAll('%BUILD%', version));
  return outDir;
}

// Run directly: `tsx dashboard/build.ts`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  buildDashboard().then(
    (dir) => console.log(`dashboard built in ${Date.now() - started} ms → ${dir}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
