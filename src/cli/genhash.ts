import { parseArgs } from 'node:util';
import { type Subcommand, UsageError } from './command.js';

const usage = `Usage: lvs-operator genhash --url URL [--host NAME] [--verify]
       (as a kubectl plugin: kubectl lvs genhash ...)

Prints the MD5 digest of a page's body as keepalived's genhash does, for healthCheck http
digests (keepalived HTTP_GET url digest). The body is de-chunked; no redirects are followed.

Flags:
  --url URL       http:// or https:// URL of the page, e.g. http://10.0.0.1:80/health
  --host NAME     Host header (and TLS server name) instead of the URL's host (genhash -V)
  --verify        verify the server certificate (genhash does not)
  -h, --help      show this help`;

export const genhashCommand: Subcommand = {
  name: 'genhash',
  summary: "Print a page's MD5 digest for an HTTP health check (keepalived genhash)",
  usage,
  async run(args) {
    const { values } = parseArgs({
      args, strict: true, allowPositionals: false,
      options: { url: { type: 'string' }, host: { type: 'string' }, verify: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (!values.url) throw new UsageError('--url is required');
    const { fetchDigest } = await import('../health/digest.js');
    try {
      const r = await fetchDigest({ url: values.url, ...(values.host ? { host: values.host } : {}), ...(values.verify ? { tlsVerify: true } : {}) });
      process.stdout.write(`MD5SUM = ${r.md5}\n`);
      process.stderr.write(`HTTP status ${r.status}, ${r.bytes} bytes\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`lvs-operator genhash: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
