/** The HTTP side over a real local socket: /metrics, /healthz (200, then 503 when the source died), 404, 405, HEAD. */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEvents2 } from '../../../src/drbd/events2.js';
import { ConfigError } from '../../../src/errors.js';
import { DrbdState } from '../../../src/metrics/drbd-state.js';
import { exporterHealth } from '../../../src/metrics/exporter.js';
import { createExporterRegistry } from '../../../src/metrics/registry.js';
import { ListenError, parseListenAddress, startMetricsServer, type MetricsServer } from '../../../src/metrics/server.js';
import { parseExposition, sampleOf } from './exposition.js';

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(drbd: DrbdState): Promise<MetricsServer> {
  const metrics = createExporterRegistry(drbd, null);
  server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    contentType: metrics.registry.contentType,
    render: () => metrics.render(),
    health: () => exporterHealth(drbd, null),
  });
  return server;
}

const status = parseEvents2(readFileSync(new URL('../../fixtures/events2/drbd9-utils-sync-statistics.txt', import.meta.url), 'utf8'));

describe('metrics server', () => {
  it('serves the exposition on /metrics with prom-client\'s content type', async () => {
    const drbd = new DrbdState();
    drbd.source = 'netlink';
    drbd.setStatus(status);
    const s = await serve(drbd);
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await get(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(res.body);
    expect(sampleOf(families, 'drbd_resource_resources')).toBe(1);
    expect(sampleOf(families, 'hastor_drbd_source_up', { source: 'netlink' })).toBe(1);
    // A query string is fine; HEAD has the headers and no body.
    expect((await get(`${s.url}/metrics?x=1`)).status).toBe(200);
    const head = await get(`${s.url}/metrics`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('gzips /metrics when the scraper accepts it (Prometheus does), not when it refuses it', async () => {
    const drbd = new DrbdState();
    drbd.setStatus(status);
    const s = await serve(drbd);
    const raw = (encoding: string) =>
      new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
        request(`${s.url}/metrics`, { headers: { 'Accept-Encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
        })
          .on('error', reject)
          .end();
      });
    const zipped = await raw('gzip');
    expect(zipped.encoding).toBe('gzip');
    const text = gunzipSync(zipped.body).toString('utf8');
    expect(sampleOf(parseExposition(text), 'drbd_resource_resources')).toBe(1);
    expect(zipped.body.length).toBeLessThan(Buffer.byteLength(text) / 4);
    for (const refused of ['identity', 'gzip;q=0', 'deflate, gzip;q=0.0']) {
      const plain = await raw(refused);
      expect(plain.encoding, refused).toBeUndefined();
      expect(plain.body.toString('utf8')).toMatch(/^# HELP /);
    }
    expect((await raw('deflate, gzip;q=0.5')).encoding).toBe('gzip');
  });

  it('/healthz is 200 with JSON while the source is alive, 503 once it died', async () => {
    const drbd = new DrbdState();
    drbd.mode = 'netlink';
    drbd.source = 'netlink';
    drbd.setStatus(status);
    const s = await serve(drbd);
    const ok = await get(`${s.url}/healthz`);
    expect(ok.status).toBe(200);
    expect(ok.type).toBe('application/json');
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, drbd: { alive: true, source: 'netlink', resources: 1, lastError: null }, lvm: { enabled: false } });
    drbd.fail(new Error('netlink socket closed'));
    const dead = await get(`${s.url}/healthz`);
    expect(dead.status).toBe(503);
    expect(JSON.parse(dead.body)).toMatchObject({ ok: false, drbd: { alive: false, lastError: 'netlink socket closed' } });
  });

  it('/healthz is 503 when polling has not read the state for three intervals', async () => {
    const drbd = new DrbdState();
    drbd.mode = 'poll';
    drbd.staleAfterMs = 15_000;
    drbd.setStatus(status, Date.now() - 20_000);
    const s = await serve(drbd);
    expect((await get(`${s.url}/healthz`)).status).toBe(503);
    drbd.setStatus(status);
    expect((await get(`${s.url}/healthz`)).status).toBe(200);
  });

  it('404 elsewhere, 405 for other methods', async () => {
    const s = await serve(new DrbdState());
    const missing = await get(`${s.url}/`);
    expect(missing.status).toBe(404);
    expect((await get(`${s.url}/metricsx`)).status).toBe(404);
    expect((await get(`${s.url}/metrics`, 'POST')).status).toBe(405);
  });

  it('a render that throws is a 500 and the server goes on', async () => {
    const errors: Error[] = [];
    let fail = true;
    server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      contentType: 'text/plain',
      render: async () => {
        if (fail) throw new Error('boom');
        return 'x 1\n';
      },
      health: () => ({ ok: true }),
      onError: (e) => errors.push(e),
    });
    expect((await get(`${server.url}/metrics`)).status).toBe(500);
    fail = false;
    expect((await get(`${server.url}/metrics`)).body).toBe('x 1\n');
    expect(errors.map((e) => e.message)).toEqual(['boom']);
  });

  it('refuses a port in use with the listen error', async () => {
    const s = await serve(new DrbdState());
    await expect(startMetricsServer({ host: '127.0.0.1', port: s.port, contentType: 'x', render: async () => '', health: () => ({ ok: true }) })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('parseListenAddress', () => {
  it('reads ADDR:PORT, [v6]:PORT and :PORT', () => {
    expect(parseListenAddress('127.0.0.1:9942')).toEqual({ host: '127.0.0.1', port: 9942 });
    expect(parseListenAddress('[::1]:9100')).toEqual({ host: '::1', port: 9100 });
    expect(parseListenAddress(':9942')).toEqual({ host: '0.0.0.0', port: 9942 });
    expect(parseListenAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });
  it('refuses anything else with a ConfigError', () => {
    for (const bad of ['9942', '127.0.0.1', '1.2.3.4:99999', '::1:9942', 'a:b', '']) expect(() => parseListenAddress(bad), bad).toThrow(ConfigError);
  });
});

describe('startMetricsServer on an address it cannot bind', () => {
  const minimal = { contentType: 'text/plain', render: async () => '', health: () => ({ healthy: true }) } as unknown as Parameters<typeof startMetricsServer>[0];

  it('a port in use is a ListenError (E_LISTEN) naming the address and what to do', async () => {
    const first = await startMetricsServer({ ...minimal, host: '127.0.0.1', port: 0 });
    try {
      const error = await startMetricsServer({ ...minimal, host: '127.0.0.1', port: first.port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ListenError);
      expect((error as ListenError).code).toBe('E_LISTEN');
      expect((error as ListenError).reason).toBe('EADDRINUSE');
      expect((error as ListenError).message).toBe(
        `cannot listen on 127.0.0.1:${first.port}: the address is already in use (EADDRINUSE; another exporter?): \`ss -ltnp\` names the process, or choose another --listen`,
      );
    } finally {
      await first.close();
    }
  });

  it('an address of no interface is a ListenError too', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host.
    const error = await startMetricsServer({ ...minimal, host: '192.0.2.1', port: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ListenError);
    expect((error as ListenError).reason).toBe('EADDRNOTAVAIL');
  });
});
