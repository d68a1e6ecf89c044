/**
 * Just enough TLS to read the SNI of a ClientHello (RFC 8446 §4.1.2, RFC 6066 §3) before the
 * proxy dials anything. Pure: the proxy feeds it the bytes it has so far.
 */

/** Largest ClientHello we wait for: one full record of plaintext (RFC 8446 §5.1). */
export const MAX_HELLO_BYTES = 16 * 1024;

export type HelloParse =
  /** Not enough bytes yet: read more (up to MAX_HELLO_BYTES). */
  | { readonly kind: "need-more" }
  /** The first byte is not a TLS handshake record. */
  | { readonly kind: "not-tls" }
  /** A handshake record, but not a well-formed ClientHello within the cap. */
  | { readonly kind: "malformed" }
  | {
      readonly kind: "hello";
      /** The host_name, as sent (not yet normalised); undefined when absent. */
      readonly sni: string | undefined;
      /** An encrypted_client_hello extension: the real SNI is hidden. */
      readonly ech: boolean;
    };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
// draft-ietf-tls-esni: encrypted_client_hello.
const EXT_ECH = 0xfe0d;
const NAME_TYPE_HOST = 0x00;

/**
 * Parse the start of a TLS stream. A ClientHello may span TCP segments (we are called again with
 * more bytes) and, rarely, several handshake records: the handshake bytes are reassembled.
 */
export function parseClientHello(data: Buffer): HelloParse {
  if (data.length === 0) return { kind: "need-more" };
  if (data[0] !== RECORD_HANDSHAKE) return { kind: "not-tls" };
  const chunks: Buffer[] = [];
  let handshakeLen = 0;
  let offset = 0;
  for (;;) {
    if (data.length < offset + 5) return more(data);
    // Record header: type, legacy version 3.x, 16-bit length.
    if (data[offset] !== RECORD_HANDSHAKE || data[offset + 1] !== 0x03) {
      return offset === 0 && data[offset + 1] !== 0x03 ? { kind: "not-tls" } : malformed();
    }
    const recordLen = data.readUInt16BE(offset + 3);
    if (recordLen === 0 || recordLen > MAX_HELLO_BYTES) return malformed();
    if (data.length < offset + 5 + recordLen) return more(data);
    chunks.push(data.subarray(offset + 5, offset + 5 + recordLen));
    handshakeLen += recordLen;
    offset += 5 + recordLen;
    if (handshakeLen >= 4) {
      const hs = Buffer.concat(chunks);
      if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return malformed();
      const bodyLen = hs.readUIntBE(1, 3);
      if (bodyLen > MAX_HELLO_BYTES) return malformed();
      if (hs.length >= 4 + bodyLen) return readHello(hs.subarray(4, 4 + bodyLen));
    }
    if (offset >= MAX_HELLO_BYTES + 5) return malformed();
  }
}

function more(data: Buffer): HelloParse {
  return data.length > MAX_HELLO_BYTES + 5 ? malformed() : { kind: "need-more" };
}

function malformed(): HelloParse {
  return { kind: "malformed" };
}

/** A bounds-checked reader: every read past the end yields undefined instead of throwing. */
function reader(buf: Buffer) {
  let pos = 0;
  return {
    skip(n: number): boolean {
      if (pos + n > buf.length) return false;
      pos += n;
      return true;
    },
    u8(): number | undefined {
      return pos + 1 <= buf.length ? buf[pos++] : undefined;
    },
    u16(): number | undefined {
      if (pos + 2 > buf.length) return undefined;
      pos += 2;
      return buf.readUInt16BE(pos - 2);
    },
    bytes(n: number): Buffer | undefined {
      if (pos + n > buf.length) return undefined;
      pos += n;
      return buf.subarray(pos - n, pos);
    },
    get left(): number {
      return buf.length - pos;
    },
  };
}

function readHello(body: Buffer): HelloParse {
  const r = reader(body);
  // legacy_version (2), random (32).
  if (!r.skip(34)) return malformed();
  const sessionLen = r.u8();
  if (sessionLen === undefined || sessionLen > 32 || !r.skip(sessionLen)) return malformed();
  const suitesLen = r.u16();
  if (suitesLen === undefined || suitesLen % 2 !== 0 || !r.skip(suitesLen)) return malformed();
  const compLen = r.u8();
  if (compLen === undefined || !r.skip(compLen)) return malformed();
  // Extensions are optional in TLS 1.2 and earlier: no extensions, no SNI.
  if (r.left === 0) return { kind: "hello", sni: undefined, ech: false };
  const extLen = r.u16();
  const exts = extLen === undefined ? undefined : r.bytes(extLen);
  if (exts === undefined || r.left !== 0) return malformed();
  const e = reader(exts);
  let sni: string | undefined;
  let seenSni = false;
  let ech = false;
  while (e.left > 0) {
    const type = e.u16();
    const len = e.u16();
    const data = len === undefined ? undefined : e.bytes(len);
    if (type === undefined || data === undefined) return malformed();
    if (type === EXT_ECH) ech = true;
    if (type !== EXT_SERVER_NAME) continue;
    // Two server_name extensions could make us and the server read different names.
    if (seenSni) return malformed();
    seenSni = true;
    const name = readServerName(data);
    if (name === null) return malformed();
    sni = name;
  }
  return { kind: "hello", sni, ech };
}

/** The single host_name in a server_name extension; null when malformed or ambiguous. */
function readServerName(data: Buffer): string | null {
  const r = reader(data);
  const listLen = r.u16();
  if (listLen === undefined || listLen !== r.left) return null;
  let name: string | undefined;
  while (r.left > 0) {
    const type = r.u8();
    const len = r.u16();
    const bytes = len === undefined ? undefined : r.bytes(len);
    if (type === undefined || bytes === undefined) return null;
    if (type !== NAME_TYPE_HOST) continue;
    // RFC 6066: at most one name of each type.
    if (name !== undefined || bytes.length === 0) return null;
    // Host names are ASCII (RFC 6066 §3); anything else is refused, not guessed at.
    if (!bytes.every((b) => b > 0x20 && b < 0x7f)) return null;
    name = bytes.toString("ascii");
  }
  return name ?? null;
}
