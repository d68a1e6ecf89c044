/**
 * Read a ClientHello from a CONNECT tunnel before anything is dialled: collect bytes until
 * parseClientHello decides, the client stops, the cap is hit or the timeout fires.
 */
import type { Duplex } from "node:stream";
import { parseClientHello } from "./tls-hello.js";
import type { HelloParse } from "./tls-hello.js";

export interface PeekedHello {
  /** Every byte read so far; the proxy writes them upstream first. */
  readonly bytes: Buffer;
  readonly parse: HelloParse;
}

export function readClientHello(
  socket: Duplex,
  head: Buffer,
  timeoutMs: number,
): Promise<PeekedHello> {
  return new Promise((resolve) => {
    let bytes = head;
    let parse = parseClientHello(bytes);
    if (parse.kind !== "need-more") {
      resolve({ bytes, parse });
      return;
    }
    const done = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", done);
      socket.off("close", done);
      socket.pause();
      // An empty or cut-short stream never showed a handshake.
      resolve({ bytes, parse: bytes.length === 0 ? { kind: "not-tls" } : parse });
    };
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      parse = parseClientHello(bytes);
      if (parse.kind !== "need-more") done();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on("data", onData);
    socket.once("end", done);
    socket.once("close", done);
    socket.resume();
  });
}
