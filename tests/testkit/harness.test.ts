import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../testkit/chromium.js';
import { freePort } from '../../testkit/free-port.js';
import { startPostgres, type PostgresServer } from '../../testkit/postgres-server.js';
import { startRedis, type RedisServer } from '../../testkit/redis-server.js';

// These start the real servers on purpose: if a dependency is missing the test must fail,
// not skip (scripts/ensure-test-deps.sh installs them).

describe('freePort', () => {
  it('returns a bindable port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => srv.close(resolve));
  });
});

describe('startPostgres', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres({ database: 'harness' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('round-trips rows through SQL', async () => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
      await client.query('INSERT INTO t VALUES ($1, $2)', [1, '配电房']);
      const { rows } = await client.query<{ name: string; db: string }>('SELECT name, current_database() AS db FROM t WHERE id = 1');
      expect(rows).toEqual([{ name: '配电房', db: 'harness' }]);
    } finally {
      await client.end();
    }
  });

  it('listens on loopback only and stop() frees the port', async () => {
    const other = await startPostgres();
    expect(other.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const client = new pg.Client({ connectionString: other.url });
    await client.connect();
    const { rows } = await client.query<{ addr: string }>("SELECT current_setting('listen_addresses') AS addr");
    expect(rows[0].addr).toBe('127.0.0.1');
    await client.end();
    await other.stop();
    const late = new pg.Client({ connectionString: other.url });
    await expect(late.connect()).rejects.toThrow();
  });
});

describe('startRedis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers SET/GET', async () => {
    const client = new Redis(server.url);
    try {
      await client.set('harness:key', 'value');
      expect(await client.get('harness:key')).toBe('value');
    } finally {
      client.disconnect();
    }
  });
});

describe('launchChromium', () => {
  let http: Server;
  let url: string;
  beforeAll(async () => {
    http = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Harness 调度</title><p>ok</p>');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
  });

  it('loads a local page and reads its title', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(url);
      expect(await page.title()).toBe('Harness 调度');
    } finally {
      await browser.close();
    }
  });
});
