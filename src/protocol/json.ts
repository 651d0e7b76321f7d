/**
 * J-IM's JSON conventions (spec §2): output has alphabetically ordered keys and no nulls
 * (fastjson defaults); input accepts numeric strings for integer fields.
 */

export type JsonObject = { [key: string]: unknown };

const encoder = new TextEncoder();

/**
 * Serialises like fastjson: object keys sorted by UTF-16 code unit order (Java's
 * String.compareTo), null and undefined members omitted, arrays kept as they are.
 * JSON.stringify alone would put integer-like keys ("100", "2") first in numeric order.
 */
export function stringifySorted(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object": {
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ",";
          const item = value[i];
          out += item === undefined ? "null" : stringifySorted(item);
        }
        return out + "]";
      }
      if (value instanceof Uint8Array) return stringifySorted(Array.from(value));
      const obj = value as JsonObject;
      const keys = Object.keys(obj).sort();
      let out = "{";
      let first = true;
      for (const key of keys) {
        const v = obj[key];
        if (v === null || v === undefined || typeof v === "function" || typeof v === "symbol") continue;
        if (!first) out += ",";
        first = false;
        out += JSON.stringify(key) + ":" + stringifySorted(v);
      }
      return out + "}";
    }
    default:
      return "null";
  }
}

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(stringifySorted(value));
}

export class JsonBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonBodyError";
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Parses a request body; it must be a JSON object. Throws JsonBodyError otherwise. */
export function parseJsonObject(body: Uint8Array | string): JsonObject {
  let text: string;
  try {
    text = typeof body === "string" ? body : decoder.decode(body);
  } catch {
    throw new JsonBodyError("body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JsonBodyError("body is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new JsonBodyError("body is not a JSON object");
  }
  if (nestsDeeperThan(value, MAX_BODY_DEPTH)) {
    throw new JsonBodyError(`body nests deeper than ${MAX_BODY_DEPTH} levels`);
  }
  return value as JsonObject;
}

/**
 * Deepest nesting accepted in a request body. JSON.parse takes any depth, but the encoders that
 * may see the value later (stringifySorted, JSON.stringify: cmd 3's echo, non-string chat
 * content) recurse and would overflow the stack; J-IM bodies are 2–3 levels deep.
 */
export const MAX_BODY_DEPTH = 64;

/** True if a parsed JSON value nests more than `limit` arrays/objects deep (iterative). */
function nestsDeeperThan(root: object, limit: number): boolean {
  const stack: unknown[] = [root];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const value = stack.pop() as object;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (child !== null && typeof child === "object") {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

const INTEGER_TEXT = /^\s*-?\d+\s*$/;

/**
 * Reads an integer field the way fastjson does: a number or a numeric string.
 * Returns undefined when absent (or null or ""), throws JsonBodyError when present but not an integer.
 */
export function readInt(obj: JsonObject, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === "") return undefined;
  // Safe integers only: SQLite stores larger ones exactly, but reading them back throws.
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (typeof v === "string" && INTEGER_TEXT.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new JsonBodyError(`field "${key}" must be an integer`);
}

/** Reads a number field (fastjson double): a number or a numeric string. */
export function readNumber(obj: JsonObject, key: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  throw new JsonBodyError(`field "${key}" must be a number`);
}

/**
 * Reads a string field. Numbers are accepted and converted (fastjson does the same for String
 * fields); empty strings count as absent. Objects and arrays are rejected.
 */
export function readString(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new JsonBodyError(`field "${key}" must be a string`);
}

/** Reads an optional JSON object field (e.g. `extras`). */
export function readObject(obj: JsonObject, key: string): JsonObject | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "object" && !Array.isArray(v)) return v as JsonObject;
  throw new JsonBodyError(`field "${key}" must be an object`);
}
