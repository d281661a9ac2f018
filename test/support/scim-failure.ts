import { ScimRequestError } from '../../src/scim/errors';

/** Runs `promise`, expects a ScimRequestError and returns it. */
export async function scimFailure(promise: Promise<unknown>): Promise<ScimRequestError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ScimRequestError);
    return error as ScimRequestError;
  }
  throw new Error('expected the call to fail');
}
