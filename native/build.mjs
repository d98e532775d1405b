// `npm install` step: builds native/packet_socket.node with the node-gyp that npm bundles.
// Offline machines have no header download: when this node's own headers are installed
// (<prefix>/include/node/node_api.h, e.g. Debian's nodejs), point node-gyp at them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (process.platform !== 'linux') {
  console.warn('lvs-operator: the VRRP packet socket is Linux-only; skipping the native build');
  process.exit(0);
}
const prefix = resolve(dirname(process.execPath), '..');
const nodeGyp = process.env.npm_config_node_gyp ?? join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const args = [nodeGyp, 'rebuild', `--directory=${here}`, '--loglevel=warn'];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
