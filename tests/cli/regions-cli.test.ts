// `npm run regions`: offline check, import/export against the embedded database on disk (as the hub
// opens it), and through a running hub's HTTP API.
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureCollection, Geometry } from 'geojson';
import { EXIT, runRegionsCli } from '../../cli/regions-cli.js';
import { openDatabase, type Database } from '../../storage/database.js';
import { silentLogger } from '../../common/logger.js';
import { Metrics } from '../../common/metrics.js';
import { LiveState } from '../../hub/live/live-state.js';
import { buildHttpServer, type HttpApp } from '../../hub/http/http-server.js';
import { RegionDirectory } from '../../hub/regions/region-directory.js';

type FC = FeatureCollection<Geometry, Record<string, unknown>>;
const FIXTURES = new URL('../hub/regions/fixtures/', import.meta.url);
const fixturePath = (name: string) => new URL(name, FIXTURES).pathname;
const TWO_STREETS = fixturePath('two-streets.geojson');
const OVERLAP = fixturePath('overlap-and-gap.geojson');
const codes = (fc: FC) => fc.features.map((f) => f.properties.code as string).sort();
const sorted = (fc: FC) => [...fc.features].sort((a, b) => (String(a.properties.code) < String(b.properties.code) ? -1 : 1));

let dir: string;

async function cli(args: string[], env: Record<string, string> = {}) {
  let out = '';
  const err: string[] = [];
  // HTTP_PORT=0: no hub to look for on a fixed port (the guard for a hub owning the embedded files).
  const code = await runRegionsCli(args, {
    env: { DATA_DIR: join(dir, 'data'), HTTP_PORT: '0', ...env },
    out: (t) => {
      out += t;
    },
    err: (l) => err.push(l),
  });
  return { code, out, err: err.join('\n') };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'regions-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('regions check (offline)', () => {
  it('passes a clean file and summarises it', async () => {
    const r = await cli(['check', TWO_STREETS]);
    expect(r.code).toBe(EXIT.OK);
    expect(r.err).toContain('1 district, 2 street, 2 community, 5 grid; no problems');
  });

  it('refuses overlaps and gaps with areas, says which flag accepts them, and passes once accepted', async () => {
    const r = await cli(['check', OVERLAP]);
    expect(r.code).toBe(EXIT.REFUSED);
    expect(r.err).toMatch(/overlap\s+C1-G1 ↔ C1-G2 ~\d+ m²/);
    expect(r.err).toMatch(/gap\s+C1 ~\d+ m²/);
    expect(r.err).toContain('--accept overlaps,gaps');
    expect((await cli(['check', OVERLAP, '--accept', 'overlaps'])).code).toBe(EXIT.REFUSED);
    expect((await cli(['check', OVERLAP, '--accept', 'overlaps,gaps'])).code).toBe(EXIT.OK);
  });

  it('lists structural errors, and tells a bad command or file apart (exit 2)', async () => {
    const broken = await cli(['check', fixturePath('broken-tree.geojson')]);
    expect(broken.code).toBe(EXIT.REFUSED);
    expect(broken.err).toContain('duplicate_code');
    expect(broken.err).toContain('structural errors');
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{"type":');
    expect(await cli(['check', notJson])).toMatchObject({ code: EXIT.USAGE, err: expect.stringContaining('is not JSON') });
    expect((await cli(['check', join(dir, 'missing.geojson')])).err).toContain('ENOENT');
    expect((await cli(['frobnicate'])).code).toBe(EXIT.USAGE);
    expect((await cli(['check', OVERLAP, '--accept', 'everything'])).err).toContain('unknown accept value "everything"');
  });
});

describe('regions import/export on the embedded database', () => {
  it('imports, and exports what it imported', async () => {
    const imported = await cli(['import', TWO_STREETS]);
    expect(imported.code, imported.err).toBe(EXIT.OK);
    expect(imported.err).toContain('imported 10 regions (10 new, 0 updated, 0 removed)');

    const outFile = join(dir, 'out.geojson');
    expect((await cli(['export', '--out', outFile])).code).toBe(EXIT.OK);
    const exported = JSON.parse(readFileSync(outFile, 'utf8')) as FC;
    expect(sorted(exported)).toEqual(sorted(JSON.parse(readFileSync(TWO_STREETS, 'utf8')) as FC));
  }, 60_000);

  // Each command opens the embedded database from disk and runs the migrations: seconds apiece.
  it('refuses a bad file without touching the tree, and a dry run writes nothing', async () => {
    const refused = await cli(['import', OVERLAP]);
    expect(refused.code).toBe(EXIT.REFUSED);
    const grids = await cli(['export', '--level', 'grid']);
    expect(grids.code).toBe(EXIT.OK);
    expect(codes(JSON.parse(grids.out) as FC)).toEqual([
      '430211001001-01',
      '430211001001-02',
      '430211002001-01',
      '430211002001-02',
      '430211002001-03',
    ]);

    const dry = await cli(['import', OVERLAP, '--accept', 'overlaps,gaps', '--dry-run']);
    expect(dry.code, dry.err).toBe(EXIT.OK);
    expect(dry.err).toContain('dry run, nothing written');
    expect(codes(JSON.parse((await cli(['export'])).out) as FC)).toHaveLength(10);
    expect((await cli(['export', '--root', 'nope'])).code).toBe(EXIT.REFUSED);
  }, 60_000);

  it('says which database it could not open and what to do (exit 3)', async () => {
    const r = await cli(['export'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(r.code).toBe(EXIT.UNAVAILABLE);
    expect(r.err).toContain('cannot open DATABASE_URL');
    expect(r.err).toContain('--hub');
  });
});

describe('regions import/export through a running hub', () => {
  let db: Database;
  let app: HttpApp;
  let hub: string;
  let reloads = 0;

  beforeAll(async () => {
    db = await openDatabase({ DATABASE_URL: undefined, DATA_DIR: '' }, silentLogger, { inMemory: true });
    app = await buildHttpServer({
      pool: db.pool,
      regions: new RegionDirectory(db.pool),
      live: new LiveState(),
      metrics: new Metrics(),
      logger: silentLogger,
      tileUrl: null,
      timescale: db.timescale,
      info: () => ({}),
      onRegionsChanged: () => {
        reloads++;
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    hub = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('sends the file to the hub, which reloads its grids, and reads it back', async () => {
    const refused = await cli(['import', OVERLAP, '--hub', hub]);
    expect(refused.code).toBe(EXIT.REFUSED);
    expect(refused.err).toContain('--accept overlaps,gaps');
    expect(reloads).toBe(0);

    const ok = await cli(['import', OVERLAP, '--accept', 'overlaps,gaps', '--hub', hub]);
    expect(ok.code, ok.err).toBe(EXIT.OK);
    expect(ok.err).toContain('the hub reloaded its grids');
    expect(reloads).toBe(1);

    const out = await cli(['export', '--hub', hub, '--root', 'C1', '--level', 'grid']);
    expect(codes(JSON.parse(out.out) as FC)).toEqual(['C1-G1', 'C1-G2', 'C1-G3']);
    expect((await cli(['export', '--hub', 'http://127.0.0.1:1'])).code).toBe(EXIT.UNAVAILABLE);
  });

  it('does not open the embedded database under a running hub, and points to --hub instead', async () => {
    const port = new URL(hub).port;
    const r = await cli(['import', TWO_STREETS], { HOST: '127.0.0.1', HTTP_PORT: port });
    expect(r.code).toBe(EXIT.UNAVAILABLE);
    expect(r.err).toContain(`add --hub http://127.0.0.1:${port}`);
    expect(reloads).toBe(1); // untouched since the import above
  });

  it('sends the bearer token when the hub requires login, and says how to get one when refused', async () => {
    const seen: Array<string | undefined> = [];
    const guard = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"ok":false,"error":{"code":"UNAUTHENTICATED","message":"login"}}');
    });
    await new Promise<void>((resolve) => guard.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(guard.address() as { port: number }).port}`;
    try {
      const r = await cli(['export', '--hub', url, '--token', 't0k']);
      expect(r.code).toBe(EXIT.UNAVAILABLE);
      expect(r.err).toContain('--token');
      await cli(['import', TWO_STREETS, '--hub', url], { HUB_TOKEN: 'from-env' });
      expect(seen).toEqual(['Bearer t0k', 'Bearer from-env']);
    } finally {
      await new Promise((resolve) => guard.close(resolve));
    }
  });
});
