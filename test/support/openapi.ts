/**
 * Checks recorded HTTP requests against Atlassian's user-provisioning OpenAPI 3.0 document: the path
 * and method exist, the path parameters are present, the query parameters are declared and have the
 * declared types, and the JSON body matches the request body schema of its content type.
 */
import fs from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { RecordedRequest } from '../../src/sandbox';
import { ATLASSIAN_OPENAPI } from './shared-documents';

/** The request fields the validator reads (a RecordedRequest of the sandbox server fits). */
export type RequestToCheck = Pick<RecordedRequest, 'method' | 'path' | 'query' | 'headers' | 'body'>;

type Json = Record<string, unknown>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The id under which the converted document is registered with ajv; every `$ref` is made absolute to it. */
const DOCUMENT_ID = 'urn:atlassian:user-provisioning:openapi';

/** OpenAPI 3.0 keywords that are not JSON Schema; they only annotate, so they are dropped. */
const OPENAPI_ONLY_KEYWORDS = new Set(['nullable', 'discriminator', 'xml', 'externalDocs', 'example']);

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Json;
  validate: ValidateFunction;
}

interface Operation {
  method: string;
  template: string;
  parameters: Parameter[];
  /** Media type (lower-case) → compiled schema; undefined when the operation takes no body. */
  body?: { required: boolean; content: Map<string, ValidateFunction | null> };
}

interface Template {
  template: string;
  /** One entry per segment: a literal, or a matcher with the parameter names it captures. */
  segments: Array<{ literal: string } | { pattern: RegExp; names: string[] }>;
  literalLength: number;
  parameterCount: number;
  operations: Map<string, Operation>;
}

export interface RouteMatch {
  template: string;
  method: string;
  pathParameters: Record<string, string>;
}

export interface OpenApiValidator {
  /** Problems with one request; empty when it is valid against the document. */
  validate(request: RequestToCheck): string[];
  /** The document's path template and method for a request, or null when none matches. */
  match(method: string, requestPath: string): RouteMatch | null;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || /^application\/[\w.+-]*\+json$/.test(mediaType);
}

/** Follows a local `$ref` such as `#/components/requestBodies/ScimGroup` inside the raw document. */
function deref(document: Json, value: unknown): unknown {
  let current = value;
  for (let depth = 0; depth < 10 && isObject(current) && typeof current.$ref === 'string'; depth++) {
    const ref = current.$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
    current = ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), document);
    if (current === undefined) throw new Error(`unresolvable $ref ${ref}`);
  }
  return current;
}

/**
 * Turns an OpenAPI 3.0 Schema Object into JSON Schema (draft-07, ajv's default):
 * - `nullable: true` becomes a `null` member of `type` (and of `enum`);
 * - `$ref` is made absolute to the registered document, and its siblings are dropped (OpenAPI 3.0
 *   ignores keywords beside a `$ref`);
 * - boolean `exclusiveMinimum`/`exclusiveMaximum` (draft-04 style) become numbers;
 * - `x-…` extensions and OpenAPI-only annotations are removed.
 * `readOnly`/`writeOnly` are kept, and ajv treats them as annotations only: they are deliberately NOT
 * enforced. Atlassian's document marks `schemas` and `externalId` of ScimUser `readOnly`, yet its own
 * descriptions say the provisioning client sets them ("This field is required during user creation or
 * modification", "Identifier defined by provisioning client"), and real clients must send both.
 */
export function convertSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === 'string') {
    return { $ref: schema.$ref.startsWith('#') ? `${DOCUMENT_ID}${schema.$ref}` : schema.$ref };
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || OPENAPI_ONLY_KEYWORDS.has(key)) continue;
    switch (key) {
      case 'properties':
      case 'patternProperties':
        out[key] = Object.fromEntries(
          Object.entries(isObject(value) ? value : {}).map(([name, inner]) => [name, convertSchema(inner)]),
        );
        break;
      case 'items':
      case 'not':
      case 'additionalProperties':
        out[key] = convertSchema(value);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[key] = Array.isArray(value) ? value.map(convertSchema) : value;
        break;
      default:
        out[key] = value;
    }
  }
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (out[flag] === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    } else if (out[flag] === false) {
      delete out[flag];
    }
  }
  return out;
}

function formatErrors(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const extra =
      error.keyword === 'enum' && Array.isArray(error.params.allowedValues)
        ? ` (${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')})`
        : '';
    return `${where}${error.instancePath} ${error.message ?? error.keyword}${extra}`;
  });
}

function compileTemplate(template: string): Template['segments'] {
  return template
    .split('/')
    .slice(1)
    .map((segment) => {
      if (!segment.includes('{')) return { literal: segment };
      const names: string[] = [];
      const source = segment
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const param = /^\{([^}]+)\}$/.exec(part);
          if (param) {
            names.push(param[1]);
            return '(.*)';
          }
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { pattern: new RegExp(`^${source}$`), names };
    });
}

/**
 * A query or path value is a string on the wire; the schema decides what it must look like.
 * Returns the typed value, or a problem sentence.
 */
function coerce(raw: string, schema: Json): { value: unknown } | { problem: string } {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'integer':
      return /^[+-]?\d+$/.test(raw.trim()) ? { value: Number(raw) } : { problem: 'must be an integer' };
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw))
        ? { value: Number(raw) }
        : { problem: 'must be a number' };
    case 'boolean':
      return raw === 'true' || raw === 'false'
        ? { value: raw === 'true' }
        : { problem: 'must be true or false' };
    default:
      return { value: raw };
  }
}

function headerValue(headers: RequestToCheck['headers'], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** Builds a validator from an OpenAPI 3.0 document (Atlassian's: see ./shared-documents.ts). */
export function createOpenApiValidator(documentPath: string): OpenApiValidator {
  const document = JSON.parse(fs.readFileSync(documentPath, 'utf8')) as Json;
  if (typeof document.openapi !== 'string' || !document.openapi.startsWith('3.0')) {
    throw new Error(`${documentPath} is not an OpenAPI 3.0 document`);
  }

  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
  addFormats(ajv);
  // The whole document is registered, its component schemas converted, so `#/components/schemas/X`
  // resolves against it. `components` is not a JSON Schema keyword: declare it as an annotation.
  ajv.addKeyword({ keyword: 'components' });
  const components = isObject(document.components) ? document.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  ajv.addSchema({
    $id: DOCUMENT_ID,
    components: {
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([name, schema]) => [name, convertSchema(schema)]),
      ),
    },
  });
  const compile = (schema: unknown): ValidateFunction => ajv.compile(convertSchema(schema) as Json);

  const compileParameters = (raw: unknown): Parameter[] =>
    (Array.isArray(raw) ? raw : []).map((entry) => {
      const parameter = deref(document, entry) as Json;
      const schema = isObject(parameter.schema) ? (deref(document, parameter.schema) as Json) : {};
      return {
        name: String(parameter.name),
        in: parameter.in as Parameter['in'],
        required: parameter.required === true || parameter.in === 'path',
        schema,
        validate: compile(parameter.schema ?? {}),
      };
    });

  const templates: Template[] = [];
  for (const [template, rawItem] of Object.entries(isObject(document.paths) ? document.paths : {})) {
    const item = deref(document, rawItem) as Json;
    const shared = compileParameters(item.parameters);
    const operations = new Map<string, Operation>();
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const own = compileParameters(operation.parameters);
      // Operation-level parameters override path-level ones of the same name and location.
      const parameters = [
        ...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)),
        ...own,
      ];
      let body: Operation['body'];
      if (operation.requestBody !== undefined) {
        const requestBody = deref(document, operation.requestBody) as Json;
        const content = new Map<string, ValidateFunction | null>();
        for (const [mediaType, media] of Object.entries(
          isObject(requestBody.content) ? requestBody.content : {},
        )) {
          const schema = isObject(media) ? media.schema : undefined;
          content.set(mediaType.toLowerCase(), schema === undefined ? null : compile(schema));
        }
        body = { required: requestBody.required === true, content };
      }
      operations.set(method.toUpperCase(), { method: method.toUpperCase(), template, parameters, body });
    }
    const segments = compileTemplate(template);
    templates.push({
      template,
      segments,
      literalLength: template.replace(/\{[^}]+\}/g, '').length,
      parameterCount: (template.match(/\{[^}]+\}/g) ?? []).length,
      operations,
    });
  }
  // A literal path (…/Schemas/urn:ietf:params:scim:schemas:core:2.0:User) must win over a templated
  // one that would also match: fewest parameters first, then the longest literal text.
  templates.sort((a, b) => a.parameterCount - b.parameterCount || b.literalLength - a.literalLength);

  const requiresBearer =
    Array.isArray(document.security) &&
    document.security.some((s) => isObject(s) && Object.keys(s).length > 0);

  function findTemplate(requestPath: string): { template: Template; params: Record<string, string> } | null {
    const decoded = requestPath.split('/').slice(1).map(safeDecode);
    if (!requestPath.startsWith('/') || decoded.some((s) => s === null)) return null;
    for (const template of templates) {
      if (template.segments.length !== decoded.length) continue;
      const params: Record<string, string> = {};
      const matches = template.segments.every((segment, i) => {
        const actual = decoded[i] as string;
        if ('literal' in segment) return segment.literal === actual;
        const found = segment.pattern.exec(actual);
        if (!found) return false;
        segment.names.forEach((name, j) => (params[name] = found[j + 1] ?? ''));
        return true;
      });
      if (matches) return { template, params };
    }
    return null;
  }

  function match(method: string, requestPath: string): RouteMatch | null {
    const found = findTemplate(requestPath);
    const operation = found?.template.operations.get(method.toUpperCase());
    if (!found || !operation) return null;
    return { template: found.template.template, method: operation.method, pathParameters: found.params };
  }

  function validate(request: RequestToCheck): string[] {
    const method = request.method.toUpperCase();
    const label = `${method} ${request.path}`;
    const found = findTemplate(request.path);
    if (!found) return [`${label}: no path of the OpenAPI document matches ${request.path}`];
    const operation = found.template.operations.get(method);
    if (!operation) {
      const allowed = [...found.template.operations.keys()].join(', ');
      return [`${label}: ${found.template.template} has no ${method} operation (it has ${allowed})`];
    }
    const problems: string[] = [];
    const where = (what: string): string => `${label}: ${what}`;

    // Path parameters: present, non-empty, of the declared type.
    for (const parameter of operation.parameters.filter((p) => p.in === 'path')) {
      const raw = found.params[parameter.name];
      if (raw === undefined || raw === '') {
        problems.push(where(`path parameter ${parameter.name} is missing or empty`));
        continue;
      }
      const typed = coerce(raw, parameter.schema);
      if ('problem' in typed) problems.push(where(`path parameter ${parameter.name} ${typed.problem}`));
      else if (!parameter.validate(typed.value)) {
        problems.push(...formatErrors(where(`path parameter ${parameter.name}`), parameter.validate.errors));
      }
    }

    // Query parameters: declared, not repeated, of the declared type; required ones present.
    const declared = new Map(operation.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
    const query = new URLSearchParams(request.query);
    const seen = new Set<string>();
    for (const [name, raw] of query) {
      const parameter = declared.get(name);
      if (!parameter) {
        const known = [...declared.keys()].join(', ') || 'none';
        problems.push(where(`unknown query parameter "${name}" (declared: ${known})`));
        continue;
      }
      if (seen.has(name) && parameter.schema.type !== 'array') {
        problems.push(where(`query parameter ${name} is given more than once`));
        continue;
      }
      seen.add(name);
      const typed =
        parameter.schema.type === 'array' ? { value: query.getAll(name) } : coerce(raw, parameter.schema);
      if ('problem' in typed)
        problems.push(where(`query parameter ${name}=${JSON.stringify(raw)} ${typed.problem}`));
      else if (!parameter.validate(typed.value)) {
        problems.push(...formatErrors(where(`query parameter ${name}`), parameter.validate.errors));
      }
    }
    for (const parameter of declared.values()) {
      if (parameter.required && !query.has(parameter.name)) {
        problems.push(where(`required query parameter ${parameter.name} is missing`));
      }
    }

    // The document's security requirement is OAuth2 client credentials: a bearer token.
    if (requiresBearer && !/^Bearer\s+\S+/i.test(headerValue(request.headers, 'authorization') ?? '')) {
      problems.push(where('no Authorization: Bearer header'));
    }

    // Body: only where the operation takes one, with a declared content type, valid against its schema.
    const hasBody = request.body !== undefined && request.body !== '';
    if (!operation.body) {
      if (hasBody)
        problems.push(where(`${method} ${operation.template} takes no request body, but one was sent`));
      return problems;
    }
    if (!hasBody) {
      if (operation.body.required) problems.push(where('the request body is required but missing'));
      return problems;
    }
    const contentType = (headerValue(request.headers, 'content-type') ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (!operation.body.content.has(contentType)) {
      const allowed = [...operation.body.content.keys()].join(', ');
      problems.push(
        where(`content-type "${contentType || '(none)'}" is not one the document accepts (${allowed})`),
      );
      return problems;
    }
    let body = request.body;
    if (typeof body === 'string' && isJsonMediaType(contentType)) {
      // The recorder keeps a body that is not JSON as its raw text.
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        problems.push(where(`the ${contentType} body is not valid JSON`));
        return problems;
      }
    }
    const validateBody = operation.body.content.get(contentType);
    if (validateBody && !validateBody(body))
      problems.push(...formatErrors(where('body'), validateBody.errors));
    return problems;
  }

  return { validate, match };
}

let shared: OpenApiValidator | undefined;

/** The validator for Atlassian's document, built once per test process; null when it is absent. */
export function atlassianOpenApi(): OpenApiValidator | null {
  if (ATLASSIAN_OPENAPI.path === null) return null;
  shared ??= createOpenApiValidator(ATLASSIAN_OPENAPI.path);
  return shared;
}

let saidOff = false;

/**
 * The validator the traffic checks of other tests use: with Atlassian's document absent (a fresh
 * clone) their traffic is not validated, which is said once, and the tests still run.
 */
function trafficValidator(): OpenApiValidator | null {
  const validator = atlassianOpenApi();
  if (validator === null && !saidOff) {
    saidOff = true;
    // One plain line (console.warn would add a code frame that reads like a failure).
    process.stderr.write(`OpenAPI validation of the recorded traffic is off: ${ATLASSIAN_OPENAPI.missing}\n`);
  }
  return validator;
}

/** Every problem of every request, each prefixed with the request's position: empty when all are valid. */
export function openApiProblems(
  requests: readonly RequestToCheck[],
  validator: OpenApiValidator | null = trafficValidator(),
): string[] {
  if (validator === null) return [];
  return requests.flatMap((request, index) =>
    validator.validate(request).map((problem) => `request #${index + 1} ${problem}`),
  );
}

/** Throws one error listing every problem when some request is not valid against the document. */
export function assertValidRequests(
  requests: readonly RequestToCheck[],
  validator: OpenApiValidator | null = trafficValidator(),
): void {
  const problems = openApiProblems(requests, validator);
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} problem(s) against Atlassian's OpenAPI document:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}
