// Test PKI for the API tier, made with the openssl CLI (Node cannot issue X.509
// certificates): one CA that signs the serving cert and every client cert, plus the
// service-account token signing key pair. ECDSA P-256 keys: fast to generate.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

export interface CertFiles {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: CertFiles;
  serving: CertFiles;
  /** Public key the API server verifies service-account tokens with. */
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
}

const DAYS = '2';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

// Distinguished-name values go into `-subj /CN=../O=..`; '/' and '=' would split them.
function dnValue(v: string): string {
  if (/[/=\\]/.test(v)) throw new Error(`certificate name part ${JSON.stringify(v)} may not contain / = or \\`);
  return v;
}

async function signed(
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
): Promise<CertFiles> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  await openssl(['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', subject], dir);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions.join('\n') + '\n');
  await openssl(
    // A random serial, not -CAcreateserial: its serial file races when certs are issued in parallel.
    ['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key',
      '-set_serial', `0x${randomBytes(15).toString('hex')}`, '-days', DAYS, '-sha256', '-extfile', ext, '-out', cert],
    dir,
  );
  return { cert, key };
}

/** Creates the CA, a serving cert for 127.0.0.1/localhost (and `extraIps`) and the SA key pair in dir. */
export async function createPki(dir: string, serviceClusterIp: string, extraIps: string[] = []): Promise<Pki> {
  await openssl(
    ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', DAYS,
      '-subj', '/CN=lvs-operator-test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };

  // In-cluster clients reach the API through the first service IP and these names.
  const sans = [
    'IP:127.0.0.1', `IP:${serviceClusterIp}`, ...extraIps.map((ip) => `IP:${ip}`), 'DNS:localhost', 'DNS:kubernetes',
    'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local',
  ];
  const serving = await signed(dir, 'serving', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${sans.join(',')}`,
  ]);

  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);

  return {
    dir,
    ca,
    serving,
    serviceAccountPublicKey: join(dir, 'sa.pub'),
    serviceAccountPrivateKey: join(dir, 'sa.key'),
  };
}

/**
 * Issues a client certificate signed by the CA in dir (made by createPki): CN is the
 * user name, each O a group, as kube-apiserver's x509 authenticator reads them.
 */
export function issueClientCert(dir: string, name: string, user: string, groups: string[]): Promise<CertFiles> {
  return signed(dir, name, `/CN=${dnValue(user)}${groups.map((g) => `/O=${dnValue(g)}`).join('')}`, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ]);
}

export async function base64File(path: string): Promise<string> {
  return (await readFile(path)).toString('base64');
}
