// Documents metadata: what a partner can hand a customer or an engineer, per product family.
// Metadata only (title, kind, language, version); the files themselves live in Poly's portals.
export interface DocumentMeta {
  id: string;
  title: string;
  kind: 'datasheet' | 'admin_guide' | 'release_notes' | 'quick_start' | 'program';
  language: string;
  /** Models it applies to; empty for program documents. */
  models: string[];
  version: string | null;
}

const VIDEO = ['Studio X30', 'Studio X50', 'Studio X52', 'Studio X70', 'G7500', 'TC10'];
const PHONES = ['CCX 400', 'CCX 500', 'CCX 600', 'Trio C60'];

export const DOCUMENTS: readonly DocumentMeta[] = [
  { id: 'poly-plus-partner-datasheet-ja', title: 'Partner Poly+ プログラム データシート', kind: 'program', language: 'ja', models: [], version: null },
  { id: 'poly-plus-partner-datasheet-en', title: 'Partner Poly+ program datasheet', kind: 'program', language: 'en', models: [], version: null },
  { id: 'videoos-admin-guide-4.2', title: 'Poly VideoOS administrator guide', kind: 'admin_guide', language: 'en', models: VIDEO, version: '4.2.0' },
  { id: 'videoos-release-notes-4.2', title: 'Poly VideoOS release notes', kind: 'release_notes', language: 'en', models: VIDEO, version: '4.2.0' },
  { id: 'studio-x-quick-start', title: 'Poly Studio X family quick start', kind: 'quick_start', language: 'en', models: ['Studio X30', 'Studio X50', 'Studio X52', 'Studio X70'], version: null },
  { id: 'uc-software-admin-guide-9.1', title: 'Poly UC Software administrator guide', kind: 'admin_guide', language: 'en', models: PHONES, version: '9.1.2' },
  { id: 'uc-software-release-notes-9.1', title: 'Poly UC Software release notes', kind: 'release_notes', language: 'en', models: PHONES, version: '9.1.2' },
];

export function documentsFor(model?: string): DocumentMeta[] {
  return model === undefined ? [...DOCUMENTS] : DOCUMENTS.filter((d) => d.models.length === 0 || d.models.includes(model));
}
