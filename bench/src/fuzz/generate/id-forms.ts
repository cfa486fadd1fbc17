/** Request id forms, by whether the node can read them (docs/protocol.md §2: a string ≤ 128 characters or an integer). */
import type { IdForm } from '../frame/frame-node.ts';
import type { ReplyIdExpectation } from '../oracle/reply-id.ts';

/** Forms a node reads as a valid id and echoes in `re`. */
export const USABLE_ID_FORMS: readonly IdForm[] = [
  'int',
  'negative-int',
  'int-as-float',
  'int-as-int64',
  'string',
  'string-128',
  'string-nul',
  'string-lone-surrogate',
];

/** Forms that are no valid id: the reply is `bad_request` with `re: null`. */
export const UNUSABLE_ID_FORMS: readonly IdForm[] = ['string-129', 'fraction', 'unsafe-int', 'nan', 'bool', 'nil', 'array', 'map', 'bin'];

/** A str id whose bytes are not UTF-8: a lenient decoder echoes a mangled string, a strict one refuses the frame. */
export const MANGLED_ID_FORM: IdForm = 'string-not-utf8';

export function replyIdFor(form: IdForm): ReplyIdExpectation {
  if (form === MANGLED_ID_FORM) return 'either';
  return USABLE_ID_FORMS.includes(form) ? 'id' : 'null';
}
