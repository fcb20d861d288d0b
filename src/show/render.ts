// Renders a Topology as a terminal tree, Mermaid (GitHub/GitLab Markdown) or
// Graphviz DOT. Pure and deterministic: node ids follow the drawing order.
import type { Device, Edge, Guest, Nic, Topology } from './model.js';

const OWNER_TAG: Record<Device['ownership'], string> = {
  'vnet-virt': 'vnet-virt',
  libvirt: 'made by libvirt',
  'hand-made': 'not vnet-virt',
  unknown: '',
};

/** `macvtap mvt-web1 (vepa) 52:54:00:5e:11:02`: what the device is, in one line. */
export function deviceTitle(d: Device): string {
  const mode = d.mode !== undefined ? ` (${d.mode})` : '';
  const mac = d.mac !== undefined && (d.kind === 'macvtap' || d.kind === 'macvlan') ? ` ${d.mac}` : '';
  const kind = d.kind === 'device' ? 'device' : d.kind === 'other' ? '' : d.kind;
  const name = d.name === '' ? '(named by libvirt)' : d.name;
  return `${kind ? `${kind} ` : ''}${name}${mode}${mac}`;
}

export const nicTitle = (n: Nic): string =>
  `#${n.index} ${n.type || 'interface'}${n.mac ? ` ${n.mac}` : ''}${n.model ? ` ${n.model}` : ''}`;

/** ok / the problems, only when the host was read. */
const statusOf = (t: Topology, d: Device): string | undefined =>
  !t.host || d.box !== undefined || d.present === undefined ? undefined : d.problems.length ? d.problems.join(', ') : 'ok';

function outgoing(t: Topology): Map<string, Edge[]> {
  const out = new Map<string, Edge[]>();
  for (const e of t.edges) {
    const list = out.get(e.from);
    if (list) list.push(e);
    else out.set(e.from, [e]);
  }
  return out;
}

// ---- text ----

export interface TextStyle {
  color: boolean;
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

export function renderText(t: Topology, style: TextStyle = { color: false }): string {
  const devs = new Map(t.devices.map((d) => [d.id, d]));
  const out = outgoing(t);
  const lines: string[] = [];
  const c = style.color;
  const deviceLine = (d: Device, via: Edge['kind']): string => {
    const owner = OWNER_TAG[d.ownership];
    const status = statusOf(t, d);
    const head = `${via === 'pair' ? '═ ' : ''}${deviceTitle(d)}`;
    const tags = [owner && paint(c, '2', `[${owner}]`), status && paint(c, status === 'ok' ? '32' : '31', status === 'ok' ? '✓ ok' : `✗ ${status}`)]
      .filter(Boolean)
      .join(' ');
    return tags ? `${head}  ${tags}` : head;
  };
  // A chain walk: every edge leaves a device at most once per branch; the graph is shallow (guest -> bridge is <= 5 hops).
  const walk = (from: string, prefix: string, seen: Set<string>): void => {
    // A guest's chain stays on the host side of a namespace wall; the box lists what crosses it.
    const edges = (out.get(from) ?? []).filter((e) => !seen.has(e.to) && devs.get(e.to)!.box === undefined);
    edges.forEach((e, i) => {
      const last = i === edges.length - 1;
      const d = devs.get(e.to)!;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${deviceLine(d, e.kind)}`);
      walk(e.to, prefix + (last ? '   ' : '│  '), new Set([...seen, e.to]));
    });
  };
  for (const g of t.guests) {
    lines.push(`${paint(c, '1', `guest ${g.label}`)}  ${paint(c, '2', g.file)}`);
    g.nics.forEach((n, i) => {
      const last = i === g.nics.length - 1;
      lines.push(`${last ? '└─ ' : '├─ '}${nicTitle(n)}`);
      walk(n.id, last ? '   ' : '│  ', new Set());
    });
    if (g.nics.length === 0) lines.push('└─ (no interfaces)');
  }
  for (const box of t.boxes) {
    lines.push(paint(c, '1', box.label));
    const inside = t.devices.filter((d) => d.box === box.id);
    inside.forEach((d, i) => {
      const last = i === inside.length - 1;
      const wall = t.edges.find((e) => e.to === d.id);
      const host = wall ? devs.get(wall.from) : undefined;
      const bridge = host ? t.edges.find((e) => e.from === host.id && devs.get(e.to)?.kind === 'bridge') : undefined;
      const where = [host?.present === false ? 'missing' : '', bridge ? `on ${devs.get(bridge.to)!.name}` : ''].filter(Boolean).join(', ');
      const across = host ? `  ${wall!.kind === 'pair' ? '═' : '─'} ${deviceTitle(host)} (host side${where ? `, ${where}` : ''})` : '';
      lines.push(`${last ? '└─ ' : '├─ '}${deviceLine(d, 'plain')}${across}`);
    });
  }
  return lines.join('\n') + '\n';
}

// ---- graphs: shared node numbering ----

interface GraphNode {
  id: string;
  label: string[];
  status: 'ok' | 'problem' | 'unknown';
  ownership: Device['ownership'] | 'guest';
}

interface Graph {
  guests: { id: string; label: string; nics: GraphNode[] }[];
  boxes: { id: string; label: string; nodes: GraphNode[] }[];
  free: GraphNode[];
  edges: { from: string; to: string; kind: Edge['kind'] }[];
}

function graphOf(t: Topology): Graph {
  const ids = new Map<string, string>();
  const idOf = (key: string): string => {
    let id = ids.get(key);
    if (!id) ids.set(key, (id = `n${ids.size}`));
    return id;
  };
  const nodeOf = (d: Device): GraphNode => {
    const status = statusOf(t, d);
    const owner = OWNER_TAG[d.ownership];
    return {
      id: idOf(d.id),
      label: [deviceTitle(d), ...(owner ? [owner] : []), ...(status && status !== 'ok' ? [`✗ ${status}`] : [])],
      status: status === undefined ? 'unknown' : status === 'ok' ? 'ok' : 'problem',
      ownership: d.ownership,
    };
  };
  const guests = t.guests.map((g: Guest) => ({
    id: idOf(g.id),
    label: `guest ${g.label}`,
    nics: g.nics.map((n) => ({ id: idOf(n.id), label: [nicTitle(n)], status: 'unknown' as const, ownership: 'guest' as const })),
  }));
  const boxes = t.boxes.map((b) => ({ id: idOf(b.id), label: b.label, nodes: t.devices.filter((d) => d.box === b.id).map(nodeOf) }));
  const free = t.devices.filter((d) => d.box === undefined).map(nodeOf);
  const edges = t.edges.map((e) => ({ from: idOf(e.from), to: idOf(e.to), kind: e.kind }));
  return { guests, boxes, free, edges };
}

// ---- mermaid ----

const mermaidText = (s: string): string => s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
const mermaidNode = (n: GraphNode): string => `${n.id}["${n.label.map(mermaidText).join('<br/>')}"]`;

export function renderMermaid(t: Topology): string {
  const g = graphOf(t);
  const lines = ['flowchart LR'];
  for (const guest of g.guests) {
    lines.push(`  subgraph ${guest.id}["${mermaidText(guest.label)}"]`);
    for (const n of guest.nics) lines.push(`    ${mermaidNode(n)}`);
    lines.push('  end');
  }
  for (const box of g.boxes) {
    lines.push(`  subgraph ${box.id}["${mermaidText(box.label)}"]`);
    for (const n of box.nodes) lines.push(`    ${mermaidNode(n)}`);
    lines.push('  end');
  }
  for (const n of g.free) lines.push(`  ${mermaidNode(n)}`);
  for (const e of g.edges) lines.push(`  ${e.from} ${e.kind === 'pair' ? '===' : '---'} ${e.to}`);
  const all = [...g.free, ...g.boxes.flatMap((b) => b.nodes)];
  const cls = (name: string, pick: (n: GraphNode) => boolean): void => {
    const ids = all.filter(pick).map((n) => n.id);
    if (ids.length) lines.push(`  class ${ids.join(',')} ${name}`);
  };
  lines.push('  classDef ours fill:#e8f4ea,stroke:#2e7d32');
  lines.push('  classDef foreign fill:#f5f5f5,stroke:#757575,stroke-dasharray:4 3');
  lines.push('  classDef problem fill:#fdecea,stroke:#c62828,stroke-width:2px');
  cls('ours', (n) => n.ownership === 'vnet-virt' && n.status !== 'problem');
  cls('foreign', (n) => (n.ownership === 'hand-made' || n.ownership === 'libvirt') && n.status !== 'problem');
  cls('problem', (n) => n.status === 'problem');
  return lines.join('\n') + '\n';
}

// ---- dot ----

const dotText = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const dotNode = (n: GraphNode): string => {
  const fill = n.status === 'problem' ? '#fdecea' : n.ownership === 'vnet-virt' ? '#e8f4ea' : n.ownership === 'guest' ? '#e3f2fd' : '#f5f5f5';
  const pen = n.status === 'problem' ? ', color="#c62828", penwidth=2' : n.ownership === 'hand-made' || n.ownership === 'libvirt' ? ', style="filled,dashed"' : '';
  return `${n.id} [label="${n.label.map(dotText).join('\\n')}", fillcolor="${fill}"${pen}];`;
};

export function renderDot(t: Topology): string {
  const g = graphOf(t);
  const lines = [
    'digraph vnet_virt {',
    '  rankdir=LR;',
    '  graph [fontname="Helvetica", fontsize=12];',
    '  node [shape=box, style=filled, fontname="Helvetica", fontsize=11, margin="0.15,0.06"];',
    '  edge [arrowhead=none];',
  ];
  for (const guest of g.guests) {
    lines.push(`  subgraph cluster_${guest.id} {`, `    label="${dotText(guest.label)}"; style=rounded;`);
    for (const n of guest.nics) lines.push(`    ${dotNode(n)}`);
    lines.push('  }');
  }
  for (const box of g.boxes) {
    lines.push(`  subgraph cluster_${box.id} {`, `    label="${dotText(box.label)}"; style=dashed;`);
    for (const n of box.nodes) lines.push(`    ${dotNode(n)}`);
    lines.push('  }');
  }
  for (const n of g.free) lines.push(`  ${dotNode(n)}`);
  for (const e of g.edges) lines.push(`  ${e.from} -> ${e.to}${e.kind === 'pair' ? ' [penwidth=3, color="#555555"]' : ''};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
