/**
 * The little DNS wire format the filter needs (RFC 1035 §4): read one question, write a reply
 * echoing it with A/AAAA answers. Hand-written rather than dns-packet, whose decoder joins labels
 * with "." without escaping: one label "allowed.test" and two labels "allowed"."test" decode to the
 * same string, so a filter built on it could judge a different name than the one on the wire.
 * dns-packet is still used by the tests, as an independent client.
 */
import ipaddr from "ipaddr.js";

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
export const QTYPE_A = 1;
export const QTYPE_AAAA = 28;
export const QCLASS_IN = 1;
/** RFC 1035 §2.3.4: 255 octets on the wire, 253 characters as text. */
export const MAX_NAME_CHARS = 253;
/** At most this many addresses per answer: a reply then always fits in 512 bytes of UDP. */
export const MAX_ANSWERS = 8;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "A",
  2: "NS",
  5: "CNAME",
  6: "SOA",
  10: "NULL",
  12: "PTR",
  15: "MX",
  16: "TXT",
  28: "AAAA",
  33: "SRV",
  64: "SVCB",
  65: "HTTPS",
  252: "AXFR",
  255: "ANY",
};

/** Query type as people write it; unknown ones in RFC 3597 form (TYPE1234). */
export function qtypeName(qtype: number): string {
  return TYPE_NAMES[qtype] ?? `TYPE${qtype}`;
}

export type QueryProblem = "malformed" | "not-a-query" | "name-too-long" | "invalid-name";

export type QueryParse =
  /** Too short to answer, or itself a response (answering could loop): say nothing. */
  | { readonly kind: "drop" }
  | {
      readonly kind: "error";
      readonly id: number;
      readonly flags: number;
      readonly rcode: number;
      readonly problem: QueryProblem;
      readonly name?: string;
      readonly qtype?: number;
    }
  | {
      readonly kind: "query";
      readonly id: number;
      readonly flags: number;
      /** Lowercase, no trailing dot. */
      readonly name: string;
      readonly qtype: number;
      readonly qclass: number;
      /** The question exactly as sent, echoed in the reply (keeps 0x20 case randomisation). */
      readonly question: Buffer;
    };

const LABEL_CHARS = /^[a-z0-9_-]+$/i;

/** Parse a query with exactly one question. Never throws. */
export function parseQuery(buf: Buffer): QueryParse {
  if (buf.length < 12) return { kind: "drop" };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) return { kind: "drop" };
  const error = (
    rcode: number,
    problem: QueryProblem,
    extra: { name?: string; qtype?: number } = {},
  ) => ({ kind: "error", id, flags, rcode, problem, ...extra }) as const;
  if (((flags >> 11) & 0xf) !== 0) return error(RCODE.NOTIMP, "not-a-query");
  if (buf.readUInt16BE(4) !== 1) return error(RCODE.FORMERR, "malformed");
  const labels: string[] = [];
  let offset = 12;
  let badChars = false;
  for (;;) {
    const len = buf[offset];
    if (len === undefined) return error(RCODE.FORMERR, "malformed");
    offset += 1;
    if (len === 0) break;
    // 64..255: compression pointers (nothing precedes a question to point at) or reserved
    // label types; either way not a label of 63 octets or fewer.
    if (len > 63 || offset + len > buf.length) return error(RCODE.FORMERR, "malformed");
    const label = buf.toString("latin1", offset, offset + len);
    if (!LABEL_CHARS.test(label)) badChars = true;
    labels.push(label);
    offset += len;
  }
  if (offset + 4 > buf.length) return error(RCODE.FORMERR, "malformed");
  const qtype = buf.readUInt16BE(offset);
  const qclass = buf.readUInt16BE(offset + 2);
  const name = labels.join(".").toLowerCase();
  if (name.length > MAX_NAME_CHARS) {
    return error(RCODE.REFUSED, "name-too-long", { name: name.slice(0, MAX_NAME_CHARS), qtype });
  }
  if (badChars || labels.length === 0) {
    return error(RCODE.REFUSED, "invalid-name", { name: JSON.stringify(name).slice(1, -1), qtype });
  }
  return { kind: "query", id, flags, name, qtype, qclass, question: buf.subarray(12, offset + 4) };
}

export interface Reply {
  readonly id: number;
  /** The query's flags: RD is copied back. */
  readonly queryFlags: number;
  readonly rcode: number;
  readonly question?: Buffer;
  readonly answers?: readonly { readonly type: number; readonly address: string }[];
  readonly ttl?: number;
}

/** A response: QR set, RD copied, RA set, the question echoed and A/AAAA answers after it. */
export function encodeReply(reply: Reply): Buffer {
  const answers = (reply.answers ?? []).slice(0, MAX_ANSWERS);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(reply.id, 0);
  header.writeUInt16BE(0x8000 | (reply.queryFlags & 0x0100) | 0x0080 | (reply.rcode & 0xf), 2);
  header.writeUInt16BE(reply.question ? 1 : 0, 4);
  header.writeUInt16BE(reply.question ? answers.length : 0, 6);
  const parts: Buffer[] = [header];
  if (reply.question) {
    parts.push(reply.question);
    for (const a of answers) {
      const rdata = Buffer.from(ipaddr.parse(a.address).toByteArray());
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name at offset 12
      rr.writeUInt16BE(a.type, 2);
      rr.writeUInt16BE(QCLASS_IN, 4);
      rr.writeUInt32BE(reply.ttl ?? 30, 6);
      rr.writeUInt16BE(rdata.length, 10);
      parts.push(rr, rdata);
    }
  }
  return Buffer.concat(parts);
}
