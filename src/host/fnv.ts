// FNV-1a, 32 bits: a cheap stable hash for derived names and numbers, which
// keeps node:crypto off the hook's path.
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
