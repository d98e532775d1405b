import type { z } from 'zod';
import { AddressPool, AddressPoolSpec } from './address-pool.js';
import { DirectorGroup, DirectorGroupSpec } from './director-group.js';
import { RealServer, RealServerSpec } from './real-server.js';
import { VirtualService, VirtualServiceSpec } from './virtual-service.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string; issues: z.core.$ZodIssue[] };

/** `spec.backends.service.port` from a zod issue path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

/** Who the object is, for messages: `VirtualService web/dns`. */
function describeObject(kind: string, obj: unknown): string {
  const meta = (obj as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '<unnamed>';
  return typeof meta?.namespace === 'string' ? `${kind} ${meta.namespace}/${name}` : `${kind} ${name}`;
}

/** One line per issue, `path: message`, prefixed by the object; the shape kubectl users know. */
export function formatIssues(subject: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((i) => `  ${formatPath(i.path) || '(root)'}: ${i.message}`);
  return `${subject} is invalid:\n${lines.join('\n')}`;
}

function parser<S extends z.ZodType>(schema: S, kind: string) {
  return (obj: unknown): ParseResult<z.output<S>> => {
    const r = schema.safeParse(obj);
    if (r.success) return { ok: true, value: r.data };
    return { ok: false, error: formatIssues(describeObject(kind, obj), r.error.issues), issues: r.error.issues };
  };
}

/** Validates a whole object (apiVersion, kind, metadata, spec, status) and applies the schema defaults. */
export const parseDirectorGroup = parser(DirectorGroup, 'DirectorGroup');
export const parseVirtualService = parser(VirtualService, 'VirtualService');
export const parseRealServer = parser(RealServer, 'RealServer');
export const parseAddressPool = parser(AddressPool, 'AddressPool');

/** Validates only a spec, for code that builds specs itself. */
export const parseDirectorGroupSpec = parser(DirectorGroupSpec, 'DirectorGroup spec');
export const parseVirtualServiceSpec = parser(VirtualServiceSpec, 'VirtualService spec');
export const parseRealServerSpec = parser(RealServerSpec, 'RealServer spec');
export const parseAddressPoolSpec = parser(AddressPoolSpec, 'AddressPool spec');

const byKind = {
  DirectorGroup: parseDirectorGroup,
  VirtualService: parseVirtualService,
  RealServer: parseRealServer,
  AddressPool: parseAddressPool,
} as const;

export type LvsObject = DirectorGroup | VirtualService | RealServer | AddressPool;

/** Parses any lvs.dev object by its `kind`; refuses unknown kinds. */
export function parseLvsObject(obj: unknown): ParseResult<LvsObject> {
  const kind = (obj as { kind?: unknown } | null)?.kind;
  if (typeof kind === 'string' && Object.hasOwn(byKind, kind)) return byKind[kind as keyof typeof byKind](obj);
  const msg = `unknown kind ${JSON.stringify(kind)}: expected one of ${Object.keys(byKind).join(', ')}`;
  return { ok: false, error: msg, issues: [{ code: 'custom', message: msg, path: ['kind'], input: kind }] };
}
