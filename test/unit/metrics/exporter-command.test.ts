/**
 * `hastor exporter` as a command object (src/cli/main.ts registers it): flags,
 * usage errors, and a real exporter on a free local port. The host has no DRBD
 * module, so the exporter falls back to polling and reports the source down —
 * which is what /healthz must say then.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { exporterCommand } from '../../../src/cli/commands/exporter.js';
import { UsageError, type CliContext } from '../../../src/cli/context.js';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

function context() {
  const err: string[] = [];
  const out: string[] = [];
  const ctx: CliContext = {
      stdout: process.stdout,
      stderr: { write: (t: string) => err.push(t) } as unknown as NodeJS.WriteStream,
      env: {},
      out: (t: string) => {
        out.push(t);
      },
      usageError: (message: string): never => {
        throw new UsageError(message);
      },
      // The exporter needs no cluster file.
      clusterPath: () => '/nonexistent/cluster.json',
      loadCluster: () => Promise.reject(new Error('the exporter must not read the cluster file')),
  };
  return { err, out, context: ctx };
}

describe('hastor exporter', () => {
  it('serves /metrics and /healthz on the address given, then stops when told', async () => {
    const c = context();
    let seen: { metrics: { status: number; body: string }; health: { status: number; body: string }; url: string } | undefined;
    const command = exporterCommand(c.context, {
      until: async (exporter) => {
        seen = { url: exporter.url, metrics: await get(`${exporter.url}/metrics`), health: await get(`${exporter.url}/healthz`) };
        return 'SIGTERM';
      },
    });
    await command.parseAsync(['--listen', '127.0.0.1:0', '--no-lvm', '--poll-interval', '1'], { from: 'user' });
    expect(seen!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(seen!.metrics.status).toBe(200);
    expect(seen!.metrics.body).toMatch(/^hastor_drbd_source_up\{source="[a-z]+"\} 0$/m);
    // No DRBD on the host: not healthy, and /healthz says so with the reason.
    expect(seen!.health.status).toBe(503);
    expect(JSON.parse(seen!.health.body)).toMatchObject({ ok: false, drbd: { alive: false, mode: 'poll' }, lvm: { enabled: false } });
    // Pacemaker on by default: this host runs no cluster, so up is 0 and the scrape still succeeds.
    expect(seen!.metrics.body).toMatch(/^hastor_pacemaker_up 0$/m);
    expect(JSON.parse(seen!.health.body)).toMatchObject({ pacemaker: { enabled: true, up: false } });
    expect(c.err.join('')).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(DRBD via poll, LVM off, Pacemaker per scrape\)/);
    expect(c.err.join('')).toMatch(/stopped \(SIGTERM\)/);
    expect(c.out).toEqual([]);
  });

  it('--no-pacemaker: no Pacemaker family, and /healthz says it is off', async () => {
    const c = context();
    let seen: { metrics: string; health: string } | undefined;
    const command = exporterCommand(c.context, {
      until: async (exporter) => {
        seen = { metrics: (await get(`${exporter.url}/metrics`)).body, health: (await get(`${exporter.url}/healthz`)).body };
        return 'SIGTERM';
      },
    });
    await command.parseAsync(['--listen', '127.0.0.1:0', '--no-lvm', '--no-pacemaker'], { from: 'user' });
    expect(seen!.metrics).toMatch(/^hastor_drbd_source_up/m);
    expect(seen!.metrics).not.toContain('hastor_pacemaker_');
    expect(JSON.parse(seen!.health)).toMatchObject({ pacemaker: { enabled: false } });
    expect(c.err.join('')).toMatch(/LVM off, Pacemaker off\)/);
  });

  it('refuses a bad --listen or interval as a usage error, before listening', async () => {
    for (const argv of [['--listen', '9942'], ['--lvm-interval', '0'], ['--poll-interval', 'soon'], ['--pacemaker-timeout', '0.5'], ['--pacemaker-timeout', '61']]) {
      const c = context();
      const command = exporterCommand(c.context, { until: async () => 'SIGTERM' }).exitOverride();
      await expect(command.parseAsync(argv, { from: 'user' }), argv.join(' ')).rejects.toBeInstanceOf(UsageError);
      expect(c.err.join('')).not.toMatch(/listening/);
    }
  });

  it('--help lists the flags and examples', () => {
    const help = exporterCommand(context().context).helpInformation();
    for (const flag of ['--listen <addr:port>', '--lvm-interval <seconds>', '--no-lvm', '--poll-interval <seconds>', '--no-pacemaker', '--pacemaker-timeout <seconds>']) expect(help).toContain(flag);
    expect(help).toContain('127.0.0.1:9942');
  });
});
