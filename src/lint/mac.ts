// MAC reading for the rules: only well-formed addresses are judged (the schema reports the rest).
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export const isMac = (mac: string | undefined): mac is string => mac !== undefined && MAC.test(mac);

export function firstOctet(mac: string | undefined): number | undefined {
  return isMac(mac) ? Number.parseInt(mac.slice(0, 2), 16) : undefined;
}
