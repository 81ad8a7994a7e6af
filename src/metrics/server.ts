/**
 * The exporter's HTTP side (node:http): GET /metrics (the exposition),
 * GET /healthz (200 with a JSON summary while the DRBD source is alive, 503
 * once it died), 404 for any other path, 405 for other methods.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { ConfigError, HastorError } from '../errors.js';

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

export interface MetricsServerOptions {
  host?: string;
  /** 0 picks a free port. Default 9942. */
  port?: number;
  contentType: string;
  render: () => Promise<string>;
  health: () => HealthReport;
  /** A request that failed to render (the response is a 500). */
  onError?: (error: Error) => void;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** http://host:port (IPv6 hosts in brackets). */
  readonly url: string;
  close(): Promise<void>;
}

export const DEFAULT_LISTEN_HOST = '127.0.0.1';
export const DEFAULT_LISTEN_PORT = 9942;

/** `ADDR:PORT`, `[v6]:PORT` or `:PORT` (all addresses); the port alone is not enough to guess a host. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`listen address must be ADDR:PORT (e.g. 127.0.0.1:9942, [::1]:9942, :9942), not ${JSON.stringify(text)}`);
  }
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : (m[2] as string));
  return { host, port };
}

const gzip = promisify(gzipCallback);

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
  res.end(head ? undefined : body);
}

/** Prometheus asks for gzip; the exposition is repetitive text, so it shrinks ~20x. */
function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  return typeof header === 'string' && /(?:^|,)\s*gzip\s*(?:;\s*q=(?!0(?:\.0*)?\s*(?:,|$))[\d.]+)?\s*(?:,|$)/i.test(header);
}

const LISTEN_ADVICE: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (EADDRINUSE; another exporter?): `ss -ltnp` names the process, or choose another --listen',
  EACCES: 'permission denied (EACCES; ports below 1024 need root or CAP_NET_BIND_SERVICE): choose a port above 1023',
  EADDRNOTAVAIL: 'no interface of this host has that address (EADDRNOTAVAIL): use one of its addresses, or :PORT for all',
};

/** The HTTP server could not bind its address: an environment problem, not a bug. */
export class ListenError extends HastorError {
  readonly host: string;
  readonly port: number;
  /** The errno code, e.g. EADDRINUSE. */
  readonly reason: string | undefined;

  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const why = (cause.code === undefined ? undefined : LISTEN_ADVICE[cause.code]) ?? cause.message;
    super('E_LISTEN', `cannot listen on ${where}: ${why}`, { cause });
    this.host = host;
    this.port = port;
    this.reason = cause.code;
  }
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    if (path !== '/metrics' && path !== '/healthz') {
      send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n', head);
      return;
    }
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
      return;
    }
    if (path === '/healthz') {
      const report = options.health();
      send(res, report.ok ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`, head);
      return;
    }
    let body: string;
    try {
      body = await options.render();
    } catch (error) {
      options.onError?.(error as Error);
      send(res, 500, 'text/plain; charset=utf-8', `error collecting metrics: ${(error as Error).message}\n`, head);
      return;
    }
    if (acceptsGzip(req)) {
      // Level 1: most of the size win for a fraction of the default level's CPU.
      send(res, 200, options.contentType, await gzip(body, { level: 1 }), head, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
      return;
    }
    send(res, 200, options.contentType, body, head, { Vary: 'Accept-Encoding' });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.onError?.(error as Error);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
  // Scrapers keep connections alive; close() must not wait for them.
  server.keepAliveTimeout = 65_000;

  const port = options.port ?? DEFAULT_LISTEN_PORT;
  const host = options.host ?? DEFAULT_LISTEN_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ListenError(host, port, error)));
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    url: `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
