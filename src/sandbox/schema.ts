import { USER_SCHEMA } from '../scim/types';
import { type AttributeDefinition, NAME_SUB_ATTRIBUTES, USER_ATTRIBUTES } from './attributes';

const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

interface SchemaAttribute {
  name: string;
  type: 'string' | 'boolean' | 'complex';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite';
  returned: 'always' | 'default';
  uniqueness: 'none' | 'server';
  subAttributes?: SchemaAttribute[];
}

function attribute(
  name: string,
  type: SchemaAttribute['type'],
  description: string,
  extra: Partial<SchemaAttribute> = {},
): SchemaAttribute {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
  };
}

const MULTI_VALUED_SUB_ATTRIBUTES = [
  attribute('value', 'string', 'The value.'),
  attribute('type', 'string', 'A label such as "work".'),
  attribute('primary', 'boolean', 'Whether this is the primary value; at most one.'),
];

function fromDefinition(definition: AttributeDefinition): SchemaAttribute {
  const extra: Partial<SchemaAttribute> = {
    required: definition.required === true,
    caseExact: definition.caseExact === true,
    uniqueness: definition.unique ? 'server' : 'none',
  };
  switch (definition.kind) {
    case 'string':
      return attribute(definition.name, 'string', definition.description, extra);
    case 'boolean':
      return attribute(definition.name, 'boolean', definition.description, extra);
    case 'name':
      return attribute(definition.name, 'complex', definition.description, {
        ...extra,
        subAttributes: NAME_SUB_ATTRIBUTES.map((sub) =>
          attribute(sub, 'string', `The ${sub} part of the name.`),
        ),
      });
    case 'multi':
      return attribute(definition.name, 'complex', definition.description, {
        ...extra,
        multiValued: true,
        subAttributes: MULTI_VALUED_SUB_ATTRIBUTES,
      });
  }
}

/** The RFC 7643 section 7 schema document of the User resource, as `GET /Schemas/{USER_SCHEMA}` returns it. */
export function userSchemaDocument(resourceBase?: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: USER_SCHEMA,
    name: 'User',
    description: 'User Account',
    attributes: [
      attribute('id', 'string', 'Unique identifier defined by the SCIM service.', {
        caseExact: true,
        mutability: 'readOnly',
        returned: 'always',
        uniqueness: 'server',
      }),
      ...USER_ATTRIBUTES.map(fromDefinition),
    ],
    meta: {
      resourceType: 'Schema',
      ...(resourceBase === undefined ? {} : { location: `${resourceBase}/Schemas/${USER_SCHEMA}` }),
    },
  };
}
