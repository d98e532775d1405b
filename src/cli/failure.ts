// What a failed command prints: a failure the user can act on (the API server said no, a file or
// host cannot be reached) as one line; anything else with its stack, since that is a bug to report.
import { KubeApiError } from '../kube/index.js';

const userFacingCodes: ReadonlySet<string> = new Set([
  'ENOENT', 'EACCES', 'EISDIR', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function describeFailure(err: unknown): string {
  if (err instanceof KubeApiError) return `the API server refused: ${err.status} ${err.reason}: ${err.message}`;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (err instanceof Error && typeof code === 'string' && userFacingCodes.has(code)) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
