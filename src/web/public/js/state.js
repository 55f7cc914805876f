// What several views share: who is signed in, and the names of partners, customers and sites
// (from /fleet/health), so that rows can show names while the API sends ids.
export const session = { me: null };

export const names = {
  partner: new Map(),
  customer: new Map(),
  site: new Map(),
};

export const nameOf = (kind, id) => (id ? (names[kind].get(id) ?? id) : '–');
