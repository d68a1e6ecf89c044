/**
 * Reading a secret (App private key, token, webhook secret) from its file. Separate from the
 * loader, which only checks paths: serve reads secrets once at start and keeps them in memory,
 * never logging or writing them. The file must be private to its owner, like ssh's private keys.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { inspect } from "node:util";
import { secretError } from "./errors.js";

/**
 * A value that must never reach a log line, an error message or a file. `reveal()` is the only
 * way to the text; JSON, util.inspect (pino, console) and template strings all see "[redacted]".
 * The github area uses this same Secret for its tokens and JIT configs.
 */
export interface Secret {
  reveal(): string;
  toString(): string;
  toJSON(): string;
}

const REDACTED = "[redacted]";

export function createSecret(value: string): Secret {
  // The text lives in the closure, not in a property that a serializer could walk.
  return Object.freeze({
    reveal: () => value,
    toString: () => REDACTED,
    toJSON: () => REDACTED,
    [inspect.custom]: () => REDACTED,
    [Symbol.toPrimitive]: () => REDACTED,
  });
}

/** A PEM key is under 4 KiB; anything past this is the wrong file. */
export const MAX_SECRET_BYTES = 64 * 1024;

/**
 * The secret in `file`, without its trailing newline, as a Secret. Throws SBX_CONFIG_SECRET when the file is
 * missing, not a regular file, readable or writable by group or others, empty, or too big. The
 * secret itself never appears in a message.
 */
export function readSecretFile(file: string): Secret {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not hang; fstat below refuses it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw openError(file, error as NodeJS.ErrnoException);
  }
  try {
    // fstat on the open descriptor: the file checked is the file read.
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw secretError(
        `${file} is not a regular file`,
        `write the secret into a plain file with mode 600 and point the config at it`,
      );
    }
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const what = (mode & 0o044) !== 0 ? "readable" : "writable";
      throw secretError(
        `${file} is ${what} by group or others (mode ${mode.toString(8).padStart(4, "0")}); a secret file must be private`,
        `chmod 600 ${file}`,
      );
    }
    if (stat.size > MAX_SECRET_BYTES) {
      throw secretError(
        `${file} is ${stat.size} bytes; a secret file holds at most 64 KiB`,
        "check the path: it should name the file holding only the secret",
      );
    }
    const buffer = Buffer.alloc(MAX_SECRET_BYTES + 1);
    let length = 0;
    let n: number;
    do {
      n = readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
    } while (n > 0 && length < buffer.length);
    if (length > MAX_SECRET_BYTES) {
      throw secretError(
        `${file} holds more than 64 KiB; a secret file holds at most 64 KiB`,
        "check the path: it should name the file holding only the secret",
      );
    }
    // One trailing newline is what `echo` and editors add; it is not part of the secret.
    const text = buffer.toString("utf8", 0, length).replace(/\r?\n$/, "");
    if (text.trim() === "") {
      throw secretError(
        `${file} is empty`,
        `write the secret into ${file} (a trailing newline is ignored), keeping mode 600`,
      );
    }
    return createSecret(text);
  } finally {
    closeSync(fd);
  }
}

function openError(file: string, error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case "ENOENT":
    case "ENOTDIR":
      return secretError(
        `${file}: no such file`,
        `create it private to the service user: install -m 600 /dev/null ${file}, then write the secret into it`,
        error,
      );
    case "EACCES":
      return secretError(
        `cannot read ${file}: permission denied`,
        `run sandboxed serve as the file's owner, or: chown <service user> ${file}`,
        error,
      );
    default:
      return secretError(
        `cannot read ${file}: ${error.code ?? error.message}`,
        "check the path and its permissions",
        error,
      );
  }
}
