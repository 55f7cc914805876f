// Which kind of product a model is: it decides whether an onsite visit is offered (onsite.ts).
import type { ProductType } from './onsite.js';

const PATTERNS: Array<[RegExp, ProductType]> = [
  [/^Studio X(30|50|52)\b/i, 'video_bar'],
  [/^(Studio X70|G7500|G7500\b|Studio\b)/i, 'room_system'],
  [/^Trio\b/i, 'conference_phone'],
  [/^(CCX|VVX|Edge)\b/i, 'desk_phone'],
  [/^TC\d+/i, 'controller'],
  [/^(Voyager|Blackwire|Savi|Sync)\b/i, 'headset'],
];

/** The product type of a model name; unknown models are treated as desk phones (swapped by mail). */
export function productTypeOf(model: string): ProductType {
  for (const [pattern, type] of PATTERNS) if (pattern.test(model)) return type;
  return 'desk_phone';
}
