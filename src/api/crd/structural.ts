import { z } from 'zod';

/** A node of a Kubernetes structural OpenAPI v3 schema (the subset CRDs accept). */
export interface SchemaNode {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string; reason?: string }[];
}

/** Every key a node may carry, in the order they are written (stable output, readable YAML). */
export const allowedKeys = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'required',
  'properties',
  'items',
  'additionalProperties',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;
const allowed = new Set<string>(allowedKeys);

export class StructuralSchemaError extends Error {}

/**
 * Converts the JSON Schema zod emits into the structural subset of OpenAPI v3 that
 * apiextensions.k8s.io/v1 requires, and refuses what has no structural form instead of
 * emitting a CRD the API server would reject: every node has a type (or is
 * int-or-string), no anyOf/oneOf/allOf/not/$ref, every property has a description.
 */
export function toStructural(json: Record<string, unknown>, path = ''): SchemaNode {
  const src: Record<string, unknown> = { ...json };
  const where = path || '<root>';

  if (src['x-kubernetes-int-or-string'] === true) {
    // zod emits anyOf [integer, string]; Kubernetes spells that as the extension alone.
    delete src.anyOf;
    delete src.type;
  }
  // zod adds its own (JavaScript) regex next to a format; the format alone is what Kubernetes checks.
  if (typeof src.format === 'string') delete src.pattern;
  // z.literal([2, 3]) is emitted as type number; integral enums are integers.
  if (src.type === 'number' && Array.isArray(src.enum) && src.enum.every((v) => Number.isInteger(v))) src.type = 'integer';
  // z.int() without explicit bounds carries the JavaScript safe-integer range: noise for int64.
  if (src.minimum === Number.MIN_SAFE_INTEGER) delete src.minimum;
  if (src.maximum === Number.MAX_SAFE_INTEGER) delete src.maximum;
  if (src.additionalProperties === false) delete src.additionalProperties;

  for (const key of Object.keys(src)) {
    if (!allowed.has(key)) throw new StructuralSchemaError(`${where}: keyword "${key}" has no place in a structural CRD schema`);
  }
  const intOrString = src['x-kubernetes-int-or-string'] === true;
  const preserve = src['x-kubernetes-preserve-unknown-fields'] === true;
  if (src.type === undefined && !intOrString && !preserve) throw new StructuralSchemaError(`${where}: no type`);

  const out: Record<string, unknown> = {};
  for (const key of allowedKeys) {
    const v = src[key];
    if (v === undefined) continue;
    if (key === 'properties') {
      const props: Record<string, SchemaNode> = {};
      for (const [name, child] of Object.entries(v as Record<string, Record<string, unknown>>)) {
        const childPath = path ? `${path}.${name}` : name;
        if (typeof child.description !== 'string' || child.description === '') {
          throw new StructuralSchemaError(`${childPath}: every field needs a description`);
        }
        props[name] = toStructural(child, childPath);
      }
      out.properties = props;
    } else if (key === 'items') {
      out.items = toStructural(v as Record<string, unknown>, `${path}[]`);
    } else if (key === 'additionalProperties') {
      if (typeof v !== 'object' || v === null || Object.keys(v).length === 0) {
        throw new StructuralSchemaError(`${where}: additionalProperties needs a schema`);
      }
      if (src.properties !== undefined) throw new StructuralSchemaError(`${where}: properties and additionalProperties together`);
      out.additionalProperties = toStructural(v as Record<string, unknown>, `${path}{}`);
    } else {
      out[key] = v;
    }
  }
  const node = out as SchemaNode;
  if (isPlainObject(node.default)) node.default = withNestedDefaults(node.default, node);
  return node;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The API server validates a default (CEL rules included) as written, without first
 * applying the defaults nested inside it; so `default: {}` on an object whose rules read
 * its defaulted fields is refused. Spell the default out in full instead: the stored
 * result is the same as applying the nested defaults.
 */
function withNestedDefaults(value: Record<string, unknown>, node: SchemaNode): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (out[name] === undefined && child.default !== undefined) out[name] = structuredClone(child.default);
    const v = out[name];
    if (isPlainObject(v)) out[name] = withNestedDefaults(v, child);
  }
  return out;
}

/** A zod schema as a structural CRD schema node (the input shape: defaulted fields are optional). */
export function zodToStructural(schema: z.ZodType, path = ''): SchemaNode {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', reused: 'inline', unrepresentable: 'throw' });
  delete (json as Record<string, unknown>).$schema;
  return toStructural(json as Record<string, unknown>, path);
}

/** Calls `visit` for every node with its dotted path, depth first. */
export function walk(node: SchemaNode, visit: (node: SchemaNode, path: string) => void, path = ''): void {
  visit(node, path);
  for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, visit, path ? `${path}.${name}` : name);
  if (node.items) walk(node.items, visit, `${path}[]`);
  if (node.additionalProperties) walk(node.additionalProperties, visit, `${path}{}`);
}
