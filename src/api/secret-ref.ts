import { z } from 'zod';
import { dnsSubdomain } from './formats.js';

/**
 * A key of a Secret named from a cluster-scoped object (so with its namespace): the VRRP password
 * and the BGP MD5 password. `keyDescription` says what the value is.
 */
export function secretKeyRef(keyDescription: string) {
  return z.object({
    name: dnsSubdomain('Name of the Secret.'),
    namespace: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .describe('Namespace of the Secret (a DirectorGroup is cluster-scoped, so it is always given).'),
    key: z.string().min(1).max(253).regex(/^[-._a-zA-Z0-9]+$/).default('password').describe(keyDescription),
  });
}
