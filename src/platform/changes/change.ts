import type { Principal } from "../identity/principal.ts";

/**
 * Who may see a change: the members of an organization (null: everyone,
 * as for a system knowledge entry), and, when `ownerId` is set, only the
 * owner among them (a user's id, or an anonymous session's).
 */
export interface Audience {
  organizationId: string | null;
  ownerId?: string;
}

/** A change as a module records it, inside the transaction that made it. */
export interface ChangeInput {
  /** The kind of thing that changed, one of the registered topics: `knowledge`, `chat`, `context`, `journal`. */
  topic: string;
  /** Which one: an entry's, chat's, context's or journal entry's id. */
  subject: string;
  /** What happened, e.g. `message.created`, `context.status`, `entry.updated`. */
  event: string;
  audience: Audience;
  data: Record<string, unknown>;
}

/** A committed change, with its position in the feed (ascending, gap-free, shared by every process). */
export interface Change extends ChangeInput {
  position: number;
}

/** The owner id a principal's own resources carry (see Audience.ownerId). */
export function ownerIdOf(principal: Principal): string {
  return principal.kind === "anonymous" ? principal.sessionId : principal.userId;
}

/** Whether the principal may see a change: checked at every delivery. */
export function audienceAllows(principal: Principal, audience: Audience): boolean {
  if (audience.organizationId !== null && audience.organizationId !== principal.organizationId) return false;
  return audience.ownerId === undefined || audience.ownerId === ownerIdOf(principal);
}

/**
 * A topic a module publishes to, and who may follow it: the module answers
 * whether the principal may subscribe to the whole topic (its own chats,
 * say) or to one subject of it (one chat), checked against the database at
 * subscription time. A refusal is answered like a 404: the subject is not
 * the caller's, or does not exist.
 */
export interface ChangeTopic {
  name: string;
  /** The error code a refused subscription names (e.g. chat_not_found). */
  notFound: string;
  /** Whether `principal` may follow `subject` (null: all of the topic it may see). */
  authorize(principal: Principal, subject: string | null): Promise<boolean>;
}

/**
 * A topic whose whole is open to every caller who may use the module
 * (`accounts` only when anonymous sessions may not), and whose subjects are
 * open to whom `sees` says: the module's own scoped read of the subject.
 */
export function subjectTopic(options: {
  name: string;
  notFound: string;
  accountsOnly?: boolean;
  sees(principal: Principal, subject: string): Promise<boolean>;
}): ChangeTopic {
  return {
    name: options.name,
    notFound: options.notFound,
    async authorize(principal, subject) {
      if (options.accountsOnly && principal.kind === "anonymous") return false;
      return subject === null || options.sees(principal, subject);
    },
  };
}
