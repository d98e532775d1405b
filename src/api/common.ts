import { z } from 'zod';
import { withRules } from './rules.js';

// Sub-schemas every kind shares, defined once.

/**
 * A list whose items are unique scalars (`x-kubernetes-list-type: set`); the API server
 * refuses duplicates, so the zod layer does too.
 */
export function setOf<T extends z.ZodType>(item: T, maxItems: number, description: string) {
  return z
    .array(item)
    .max(maxItems)
    .meta({ description, 'x-kubernetes-list-type': 'set' })
    .superRefine((items, ctx) => {
      const seen = new Set<unknown>();
      items.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: 'custom', message: `duplicate value ${JSON.stringify(v)}`, path: [i] });
        seen.add(v);
      });
    });
}

/**
 * A list of objects keyed by `keys` (`x-kubernetes-list-type: map`), so that several
 * writers (one field manager per agent) can each own their own entry with server-side apply.
 */
export function listMapOf<T extends z.ZodObject>(item: T, keys: string[], maxItems: number, description: string) {
  return z
    .array(item)
    .max(maxItems)
    .meta({ description, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys })
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((v, i) => {
        const id = JSON.stringify(keys.map((k) => (v as Record<string, unknown>)[k]));
        if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate entry for key ${id}`, path: [i] });
        seen.add(id);
      });
    });
}

/**
 * The part of `metav1.ObjectMeta` this project reads; everything else the API server
 * sets passes through untouched. The CRD schema describes metadata as a plain object,
 * as Kubernetes requires.
 */
export const ObjectMeta = z
  .looseObject({
    name: z.string().max(253).optional().describe('Name of the object, unique within its namespace (or the cluster).'),
    generateName: z.string().optional().describe('Prefix the API server uses to generate a unique name.'),
    namespace: z.string().optional().describe('Namespace of a namespaced object; absent on cluster-scoped objects.'),
    uid: z.string().optional().describe('Unique id the API server assigns.'),
    resourceVersion: z.string().optional().describe('Opaque version for optimistic concurrency.'),
    generation: z.int().optional().describe('Sequence number of the desired state (spec), set by the API server.'),
    creationTimestamp: z.string().optional().describe('When the object was created (RFC 3339).'),
    deletionTimestamp: z.string().optional().describe('When deletion was requested (RFC 3339).'),
    labels: z.record(z.string(), z.string()).optional().describe('Labels used by selectors.'),
    annotations: z.record(z.string(), z.string()).optional().describe('Non-identifying metadata.'),
    finalizers: z.array(z.string()).optional().describe('Finalizers that must be cleared before deletion completes.'),
  })
  .describe('Standard object metadata.');
export type ObjectMeta = z.infer<typeof ObjectMeta>;

/** The condition types this project sets (Programmed and Reconciling only on a VirtualService). */
export const conditionTypes = ['Ready', 'Programmed', 'Degraded', 'Stalled', 'Reconciling'] as const;

/** `metav1.Condition`, with the same constraints the Kubernetes API puts on it. */
export const Condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/)
      .describe('Type of condition in CamelCase: Ready, Programmed (VirtualService), Degraded, Stalled or Reconciling (VirtualService).'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the condition was set for; older means the condition is stale.'),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .describe('Last time the condition changed status (RFC 3339).'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('Programmatic identifier in CamelCase for the last transition, such as Conflict, UnsupportedScheduler or NoDirectors.'),
    message: z.string().max(32768).describe('Human-readable details about the last transition.'),
  })
  .describe('A metav1.Condition: one aspect of the current state of the object.');
export type Condition = z.infer<typeof Condition>;

/** `status.conditions` of every kind: a list map keyed by `type`, as kstatus, Argo CD and Flux expect. */
export function conditionsField() {
  return listMapOf(Condition, ['type'], 16, 'Current state as metav1.Conditions: Ready; Degraded (True: an operational problem); Stalled (True: cannot become Ready until a spec or Secret changes; kstatus reports Failed); on a VirtualService also Programmed and Reconciling (True: no director has programmed this generation yet).').optional();
}

/** `status.observedGeneration` of every kind. */
export function observedGenerationField() {
  return z
    .int()
    .min(0)
    .optional()
    .describe('The .metadata.generation the controller last acted on; status is current when it equals .metadata.generation.');
}

const LabelSelectorRequirement = withRules(
  z
    .object({
      key: z.string().min(1).max(317).describe('Label key the requirement applies to.'),
      operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values.'),
      values: setOf(
        z.string().max(63).describe('A label value.'),
        64,
        'Label values; required (non-empty) for In and NotIn, forbidden for Exists and DoesNotExist.',
      ).optional(),
    })
    .describe('A label selector requirement: a key, an operator and values.'),
  [
    {
      cel: "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
      holds: (r) => ['In', 'NotIn'].includes(r.operator) === (r.values !== undefined && r.values.length > 0),
      message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
      fieldPath: '.values',
    },
  ],
);

/** `metav1.LabelSelector`. An empty selector matches everything. */
export const LabelSelector = z
  .object({
    matchLabels: z
      .record(z.string().max(317), z.string().max(63))
      .optional()
      .describe('Labels that must all be present with these values.'),
    matchExpressions: z
      .array(LabelSelectorRequirement)
      .max(32)
      .optional()
      .describe('Requirements that must all hold.'),
  })
  .meta({
    description: 'A label selector: matchLabels and matchExpressions are ANDed; an empty selector matches everything.',
    'x-kubernetes-map-type': 'atomic',
  });
export type LabelSelector = z.infer<typeof LabelSelector>;
