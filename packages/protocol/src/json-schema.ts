/**
 * The JSON Schema subset agentwire checks answers against (draft 2020-12 semantics). Questions are
 * asked by producers and answered by watchers, and both SDKs and the gateway must reach the same
 * verdict, so the checker lives here, small and dependency-free. A schema using a keyword outside
 * the subset is refused when the question is asked, never silently half-checked.
 */

export interface SchemaIssue {
  /** JSON pointer into the value (or, for an unsupported schema, into the schema). */
  path: string;
  message: string;
}

// Keywords that only describe; they never change the verdict.
const annotations = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'format',
]);
const checked = new Set([
  'type',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
]);
const typeNames = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);
const MAX_DEPTH = 32;

/** The first keyword outside the subset (or malformed), or undefined when the schema is usable. */
export function unsupportedSchema(schema: unknown, path = '', depth = 0): SchemaIssue | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return { path, message: 'a schema must be an object or a boolean' };
  }
  if (depth > MAX_DEPTH) return { path, message: `schemas nest at most ${MAX_DEPTH} levels` };
  const s = schema as Record<string, unknown>;
  for (const [key, value] of Object.entries(s)) {
    const at = `${path}/${escape(key)}`;
    if (annotations.has(key)) continue;
    if (!checked.has(key)) return { path: at, message: `the keyword "${key}" is not supported` };
    const issue = malformed(key, value, at, depth);
    if (issue) return issue;
  }
  return undefined;
}

function malformed(key: string, value: unknown, at: string, depth: number): SchemaIssue | undefined {
  const bad = (what: string): SchemaIssue => ({ path: at, message: `"${key}" must be ${what}` });
  switch (key) {
    case 'type': {
      const names = Array.isArray(value) ? value : [value];
      return names.length > 0 && names.every((n) => typeof n === 'string' && typeNames.has(n))
        ? undefined
        : bad('a JSON type name or a list of them');
    }
    case 'enum':
      return Array.isArray(value) ? undefined : bad('an array');
    case 'const':
      return undefined;
    case 'pattern':
      if (typeof value !== 'string') return bad('a string');
      try {
        new RegExp(value, 'u');
        return undefined;
      } catch {
        return bad('a valid regular expression');
      }
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties':
      return Number.isInteger(value) && (value as number) >= 0 ? undefined : bad('a non-negative integer');
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : bad('a number');
    case 'multipleOf':
      return typeof value === 'number' && value > 0 && Number.isFinite(value)
        ? undefined
        : bad('a positive number');
    case 'uniqueItems':
      return typeof value === 'boolean' ? undefined : bad('a boolean');
    case 'required':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? undefined
        : bad('an array of strings');
    case 'items':
    case 'additionalProperties':
    case 'not':
      return unsupportedSchema(value, at, depth + 1);
    case 'properties': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('an object');
      for (const [name, sub] of Object.entries(value)) {
        const issue = unsupportedSchema(sub, `${at}/${escape(name)}`, depth + 1);
        if (issue) return issue;
      }
      return undefined;
    }
    case 'allOf':
    case 'anyOf':
    case 'oneOf': {
      if (!Array.isArray(value) || value.length === 0) return bad('a non-empty array of schemas');
      for (const [i, sub] of value.entries()) {
        const issue = unsupportedSchema(sub, `${at}/${i}`, depth + 1);
        if (issue) return issue;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The first way `value` breaks `schema`, or undefined when it conforms. Call `unsupportedSchema`
 * first: keywords outside the subset are ignored here.
 */
export function schemaIssue(schema: unknown, value: unknown, path = '', depth = 0): SchemaIssue | undefined {
  if (schema === true) return undefined;
  if (schema === false) return { path, message: 'no value is allowed here' };
  if (typeof schema !== 'object' || schema === null) return undefined;
  if (depth > MAX_DEPTH) return { path, message: `the value nests deeper than ${MAX_DEPTH} levels` };
  const s = schema as Record<string, unknown>;
  const fail = (message: string): SchemaIssue => ({ path, message });

  if (s.type !== undefined) {
    const names = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (!names.some((n) => hasType(value, n)))
      return fail(`expected ${names.join(' or ')}, got ${typeOf(value)}`);
  }
  if (Array.isArray(s.enum) && !s.enum.some((v) => deepEqual(v, value))) {
    return fail(`expected one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  if ('const' in s && !deepEqual(s.const, value)) return fail(`expected ${JSON.stringify(s.const)}`);

  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof s.minLength === 'number' && length < s.minLength)
      return fail(`at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && length > s.maxLength)
      return fail(`at most ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) {
      return fail(`must match /${s.pattern}/`);
    }
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) return fail(`must be >= ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) return fail(`must be <= ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) {
      return fail(`must be > ${s.exclusiveMinimum}`);
    }
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) {
      return fail(`must be < ${s.exclusiveMaximum}`);
    }
    if (typeof s.multipleOf === 'number' && !isMultiple(value, s.multipleOf)) {
      return fail(`must be a multiple of ${s.multipleOf}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems)
      return fail(`at least ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems)
      return fail(`at most ${s.maxItems} items`);
    if (s.uniqueItems === true) {
      for (let i = 1; i < value.length; i++) {
        for (let j = 0; j < i; j++)
          if (deepEqual(value[i], value[j])) return fail(`items ${j} and ${i} are equal`);
      }
    }
    if (s.items !== undefined) {
      for (const [i, item] of value.entries()) {
        const issue = schemaIssue(s.items, item, `${path}/${i}`, depth + 1);
        if (issue) return issue;
      }
    }
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties) {
      return fail(`at least ${s.minProperties} properties`);
    }
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) {
      return fail(`at most ${s.maxProperties} properties`);
    }
    if (Array.isArray(s.required)) {
      for (const name of s.required as string[]) {
        if (!Object.hasOwn(value, name)) return fail(`missing required property "${name}"`);
      }
    }
    const props = isObject(s.properties) ? s.properties : {};
    for (const key of keys) {
      const at = `${path}/${escape(key)}`;
      if (Object.hasOwn(props, key)) {
        const issue = schemaIssue(props[key], value[key], at, depth + 1);
        if (issue) return issue;
      } else if (s.additionalProperties !== undefined) {
        const issue = schemaIssue(s.additionalProperties, value[key], at, depth + 1);
        if (issue)
          return s.additionalProperties === false ? { path: at, message: 'unexpected property' } : issue;
      }
    }
  }
  if (Array.isArray(s.allOf)) {
    for (const sub of s.allOf) {
      const issue = schemaIssue(sub, value, path, depth + 1);
      if (issue) return issue;
    }
  }
  if (
    Array.isArray(s.anyOf) &&
    !s.anyOf.some((sub) => schemaIssue(sub, value, path, depth + 1) === undefined)
  ) {
    return fail('matches none of the allowed forms (anyOf)');
  }
  if (Array.isArray(s.oneOf)) {
    const matches = s.oneOf.filter((sub) => schemaIssue(sub, value, path, depth + 1) === undefined).length;
    if (matches !== 1) return fail(`must match exactly one form (oneOf), matches ${matches}`);
  }
  if (s.not !== undefined && schemaIssue(s.not, value, path, depth + 1) === undefined) {
    return fail('matches a form that is not allowed (not)');
  }
  return undefined;
}

function hasType(value: unknown, name: string): boolean {
  switch (name) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      return false;
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMultiple(value: number, of: number): boolean {
  const q = value / of;
  // Floating point: 0.3 / 0.1 is 2.9999999999999996, which JSON Schema users mean as a multiple.
  return Math.abs(q - Math.round(q)) < 1e-9;
}

/** Structural equality of JSON values, as JSON Schema's `enum`, `const` and `uniqueItems` mean it. */
export function deepEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (depth > MAX_DEPTH || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i], depth + 1));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) =>
        Object.hasOwn(b, k) &&
        deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1),
    )
  );
}

function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
