/**
 * Blob keys as seed 000 lays them out: content under
 * `documents/{owner}/{document}`, versions under
 * `versions/{owner}/{document}/{version}`, where the owner is the user id or,
 * for an anonymous visitor, the session id. Keys are always built here from a
 * row the caller was allowed to read, never from client input.
 */
export function ownerKey(row: { user_id: string | null; anonymous_session_id: string | null }): string {
  return (row.user_id ?? row.anonymous_session_id) as string;
}

export function documentContentKey(owner: string, documentId: string): string {
  return `documents/${owner}/${documentId}`;
}

export function versionKey(owner: string, documentId: string, versionId: string): string {
  return `versions/${owner}/${documentId}/${versionId}`;
}
