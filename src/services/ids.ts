/** Validation of user and group ids (documented in docs/protocol.md). */

export const MAX_ID_LENGTH = 128;
export const MAX_PASSWORD_LENGTH = 1024;

/** An id is 1–128 characters without control characters and not only whitespace. */
export function isValidId(id: string | undefined): id is string {
  if (!id || id.length > MAX_ID_LENGTH || id.trim() === "") return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}
