/**
 * How the stores split text into words for `Store.search`, shared so SQLite (FTS5) and the memory
 * store agree on everything the contract tests.
 *
 * A word is a run of letters, digits or private-use characters (Unicode L*, N*, Co: FTS5's
 * unicode61 default). Chinese and Japanese are written without spaces, so every Han, Hiragana and
 * Katakana character is a word of its own: the search text "世界" becomes the phrase "世 界", which
 * matches those two characters next to each other anywhere in a message.
 *
 * The search text is split at whitespace into terms; a term's words must appear consecutively
 * (so "foo-bar" finds "foo bar" and "foo.bar"), and every term must appear (AND). Nothing in the
 * text is an operator: quotes, `*`, `-`, `NEAR`, `OR` and punctuation are just separators or words.
 *
 * Known differences between the two stores (the contract tests avoid them): FTS5's unicode61 also
 * removes Latin diacritics ("é" matches "e") and uses its own Unicode tables for case folding and
 * letter classes; the memory store lower-cases with `toLowerCase()` and classifies with the
 * JavaScript engine's Unicode version.
 *
 * SQLite's index holds indexText(content) (written by the store and by schema migration V2):
 * changing indexText means adding a migration that rebuilds messages_fts.
 */

const CJK = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])/gu;
const WORD = /[\p{L}\p{N}\p{Co}]+/gu;

/** The text as the full-text index stores it: each CJK character stands alone. */
export function indexText(content: string): string {
  return content.replace(CJK, " $1 ");
}

/** The words of a text, lower-cased, CJK characters one word each. */
export function textWords(text: string): string[] {
  return indexText(text).toLowerCase().match(WORD) ?? [];
}

/** The search text as terms, each a non-empty sequence of words. */
export function searchTerms(text: string): string[][] {
  return text.split(/\s+/u).map(textWords).filter((t) => t.length > 0);
}

/**
 * An FTS5 MATCH expression for the terms: each term one double-quoted phrase (quotes doubled,
 * though words never contain any), phrases AND-ed by juxtaposition. "" when there is no term.
 */
export function ftsQuery(terms: readonly (readonly string[])[]): string {
  return terms.map((t) => `"${t.join(" ").replaceAll('"', '""')}"`).join(" ");
}

/** True when every term's words appear consecutively among `words` (the memory store's match). */
export function matchesTerms(words: readonly string[], terms: readonly (readonly string[])[]): boolean {
  return terms.every((term) => {
    for (let i = 0; i + term.length <= words.length; i++) {
      let j = 0;
      while (j < term.length && words[i + j] === term[j]) j++;
      if (j === term.length) return true;
    }
    return false;
  });
}
