// Rendering is coalesced per animation frame: data changes only mark a view dirty, and each dirty
// view renders at most once per frame, however many events arrived in between (10,000 devices
// reporting at once still cost one render of what is visible).

const renderers = new Map(); // name -> render()
const dirty = new Set();
let scheduled = false;
let frames = 0;

export function register(name, render) {
  renderers.set(name, render);
}

export function unregister(name) {
  renderers.delete(name);
  dirty.delete(name);
}

export function markDirty(name) {
  dirty.add(name);
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(flush);
  }
}

function flush() {
  scheduled = false;
  frames++;
  const names = [...dirty];
  dirty.clear();
  for (const name of names) {
    const r = renderers.get(name);
    if (!r) continue;
    try {
      r();
    } catch (err) {
      console.error(`render ${name} failed`, err);
    }
  }
}

/** Frames rendered so far (the scale test reads it through window.__fw). */
export const frameCount = () => frames;
