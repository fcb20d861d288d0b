// SVG in-process: Graphviz compiled to WebAssembly renders the DOT drawing, so
// no graphviz binary is needed. Loaded only by `show --format svg`.
import { renderDot } from './render.js';
import type { Topology } from './model.js';

export async function renderSvg(t: Topology): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(renderDot(t), 'svg');
}
