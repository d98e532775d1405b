import type { z } from 'zod';

/**
 * A validation rule written once and enforced twice: the API server evaluates `cel`
 * (as an `x-kubernetes-validations` entry of the generated CRD) and the zod layer
 * evaluates `holds`. Both report the same `message`, so users see one wording
 * whichever layer refuses the object.
 */
export interface Rule<T> {
  /** CEL expression with `self` bound to the value; true means valid. */
  cel: string;
  /** The same rule in TypeScript, on the parsed value (defaults applied, as on the server). */
  holds: (self: T) => boolean;
  message: string;
  /** Field the error is reported on, relative to the value, in CEL form (`.port`, `.persistence.netmask`). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** The shape of one `x-kubernetes-validations` entry. */
export interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: string;
}

export const validationsKey = 'x-kubernetes-validations';

function toValidation<T>(r: Rule<T>): CelValidation {
  const v: CelValidation = { rule: r.cel, message: r.message };
  if (r.fieldPath !== undefined) v.fieldPath = r.fieldPath;
  if (r.reason !== undefined) v.reason = r.reason;
  return v;
}

/** `.port` / `.a.b` -> ['port'] / ['a', 'b'] for zod issue paths. */
function zodPath(fieldPath: string | undefined): string[] {
  if (fieldPath === undefined) return [];
  return fieldPath.split('.').filter((s) => s !== '');
}

/**
 * Attaches rules to a schema: their CEL form goes into the schema's metadata (and from
 * there into the CRD), their predicates into a zod refinement. Rules already attached
 * to the schema are kept.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: Rule<z.output<S>>[]): S {
  const existing = (schema.meta()?.[validationsKey] as CelValidation[] | undefined) ?? [];
  const withMeta = schema.meta({ [validationsKey]: [...existing, ...rules.map(toValidation)] });
  return withMeta.superRefine((value, ctx) => {
    for (const r of rules) {
      if (!r.holds(value)) ctx.addIssue({ code: 'custom', message: r.message, path: zodPath(r.fieldPath) });
    }
  });
}

/** A CEL string literal: single-quoted, with backslashes and quotes escaped. */
export function celString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
