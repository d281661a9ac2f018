import { ScimRequestError } from '../scim/errors';
import type { ScimDirectory } from '../scim/types';

export type ConnectionStatus = { ok: true } | { ok: false; status: number | null; message: string };

/** XSOAR's test-module: `ok`, or one sentence saying what is wrong. */
export async function testModule(directory: ScimDirectory): Promise<ConnectionStatus> {
  try {
    await directory.testConnection();
    return { ok: true };
  } catch (error) {
    if (!(error instanceof ScimRequestError)) throw error;
    return { ok: false, status: error.status, message: error.message };
  }
}

export interface MappingField {
  name: string;
  type: string;
  description: string;
}

interface SchemaAttribute {
  name?: unknown;
  type?: unknown;
  description?: unknown;
  subAttributes?: unknown;
}

function flatten(attributes: unknown, prefix: string): MappingField[] {
  if (!Array.isArray(attributes)) return [];
  return attributes.flatMap((raw: SchemaAttribute) => {
    if (!raw || typeof raw.name !== 'string') return [];
    const name = prefix + raw.name;
    const field = {
      name,
      type: typeof raw.type === 'string' ? raw.type : '',
      description: typeof raw.description === 'string' ? raw.description : '',
    };
    return [field, ...flatten(raw.subAttributes, `${name}.`)];
  });
}

/** XSOAR's get-mapping-fields: the attributes of the directory's User schema, sub-attributes dotted. */
export async function getMappingFields(directory: ScimDirectory): Promise<MappingField[]> {
  const schema = await directory.getUserSchema();
  // Atlassian documents this response as a string; it may come back as JSON text.
  let parsed: unknown = schema;
  if (typeof schema === 'string') {
    try {
      parsed = JSON.parse(schema);
    } catch {
      throw new ScimRequestError(
        null,
        'Atlassian answered the schema request with something that is not JSON',
      );
    }
  }
  const attributes =
    parsed && typeof parsed === 'object' ? (parsed as { attributes?: unknown }).attributes : undefined;
  return flatten(attributes, '');
}
