/**
 * The bulk runner's own view of Atlassian's rate limiting, without changing the SCIM client.
 *
 * The client retries a 429 itself (honouring Retry-After, within its bounded attempts and total wait)
 * and reports each retry through the logger it was given, as
 * `warn('SCIM request failed; retrying', { status: 429, attempt, waitMs, … })` (src/scim/transport.ts).
 * `watchThrottling` wraps that logger: such a line is a throttle signal for the concurrency controller,
 * and is logged at debug level instead of warn, because the progress display counts them (a run at the
 * quota would otherwise print one warning per 429). A 429 that outlasts the client's retry budget
 * comes out of the directory as a ScimRateLimitedError, which `observeDirectory` hands to the runner
 * (it lowers the limit and pauses the whole run: see ./gate).
 * test/bulk/throttle.test.ts runs the real client against 429s to keep this seam honest.
 */
import type { Logger } from '../log';
import { ScimRequestError } from '../scim/errors';
import type { ScimDirectory } from '../scim/types';

export const RATE_LIMITED = 429;

export function watchThrottling(logger: Logger, onThrottle: () => void): Logger {
  return {
    debug: (message, fields) => logger.debug(message, fields),
    info: (message, fields) => logger.info(message, fields),
    warn: (message, fields) => {
      if (fields?.status === RATE_LIMITED) {
        onThrottle();
        logger.debug(message, fields);
        return;
      }
      logger.warn(message, fields);
    },
    error: (message, fields) => logger.error(message, fields),
  };
}

export interface DirectoryObserver {
  /** Each call made (a lookup, a create, a change), for the summary. */
  onCall?(): void;
  /** A call failed: the typed error, for the runner to tell a rate limit or a storm from the row's own. */
  onError?(error: ScimRequestError): void;
  /** A write (create, PATCH) is about to be sent: the runner's `sent` report line comes first. */
  onWrite?(): void;
}

/** The same directory, with each call counted, each write announced and each SCIM error shown to the observer. */
export function observeDirectory(directory: ScimDirectory, observer: DirectoryObserver): ScimDirectory {
  const write = <R>(call: () => Promise<R>): Promise<R> => {
    observer.onWrite?.();
    return watch(call);
  };
  const watch = async <R>(call: () => Promise<R>): Promise<R> => {
    observer.onCall?.();
    try {
      return await call();
    } catch (error) {
      if (error instanceof ScimRequestError) observer.onError?.(error);
      throw error;
    }
  };
  return {
    getUserById: (id) => watch(() => directory.getUserById(id)),
    findUsers: (attribute, value) => watch(() => directory.findUsers(attribute, value)),
    createUser: (user) => write(() => directory.createUser(user)),
    patchUser: (id, operations) => write(() => directory.patchUser(id, operations)),
    getUserSchema: () => watch(() => directory.getUserSchema()),
    testConnection: () => watch(() => directory.testConnection()),
    findGroupsByName: (name) => watch(() => directory.findGroupsByName(name)),
    getGroupById: (id) => watch(() => directory.getGroupById(id)),
    createGroup: (name) => write(() => directory.createGroup(name)),
    addGroupMembers: (groupId, userIds) => write(() => directory.addGroupMembers(groupId, userIds)),
    removeGroupMembers: (groupId, userIds) => write(() => directory.removeGroupMembers(groupId, userIds)),
    listGroups: (startIndex, count) => watch(() => directory.listGroups(startIndex, count)),
  };
}
