// The REST API under /api/v1 with the signed-in token. Errors become ApiError with the API's code.

const TOKEN_KEY = 'fleetwatch.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Called when the token stops working (401): the app signs out. */
let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function api(path, { method = 'GET', body, tokenOverride, signal } = {}) {
  const t = tokenOverride ?? token.get();
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      signal,
      headers: { authorization: `Bearer ${t ?? ''}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Cannot reach the Fleetwatch service');
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : { code: 'http_' + res.status, message: res.statusText };
    const err = new ApiError(res.status, e.code, e.message);
    if (res.status === 401 && tokenOverride === undefined) onUnauthorized(err);
    if (res.status === 429) err.retryAfterMs = Number(res.headers.get('retry-after') || 1) * 1000;
    throw err;
  }
  return data;
}
