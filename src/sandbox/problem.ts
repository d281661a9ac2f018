import { ERROR_SCHEMA } from '../scim/types';

/** RFC 7644 section 3.12 `scimType` values (the ones Atlassian's OpenAPI document lists). */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** Atlassian's `ScimError` body: `status` is the HTTP status as a string. */
export interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: ScimType;
  detail: string;
}

/** Thrown inside the sandbox to answer with a ScimError; never escapes `SandboxDirectory.handle`. */
export class ScimProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    this.name = 'ScimProblem';
  }

  /** The HTTP answer: this status with a ScimError body. */
  toResponse(): { status: number; body: ScimErrorBody } {
    return { status: this.status, body: scimErrorBody(this.status, this.detail, this.scimType) };
  }
}

function scimErrorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  return {
    schemas: [ERROR_SCHEMA],
    status: String(status),
    ...(scimType === undefined ? {} : { scimType }),
    detail,
  };
}
