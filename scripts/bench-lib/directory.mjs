// Seeding the emulated Atlassian directory (dist/sandbox) directly, so that setup sends no request.
import { URLSearchParams } from 'node:url';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Creates `email` in `directory` (a SandboxDirectory) without HTTP: no request counted, no latency paid. */
export function seedUser(directory, email, { active = true } = {}) {
  const created = directory.handle({
    method: 'POST',
    path: '/Users',
    query: new URLSearchParams(),
    body: {
      schemas: [USER_SCHEMA],
      userName: email,
      emails: [{ value: email, type: 'work', primary: true }],
    },
  });
  if (created.status !== 201) throw new Error(`seeding ${email} failed: HTTP ${created.status}`);
  if (!active) {
    const patched = directory.handle({
      method: 'PATCH',
      path: `/Users/${encodeURIComponent(created.body.id)}`,
      query: new URLSearchParams(),
      body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] },
    });
    if (patched.status !== 200) throw new Error(`deactivating ${email} failed: HTTP ${patched.status}`);
  }
  return created.body;
}
