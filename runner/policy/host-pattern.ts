/**
 * Host patterns: `example.com` (that name) and `*.example.com` (any name below it, at any depth,
 * but not example.com itself). Pure functions shared by the linter and the egress proxy.
 */
import { domainToASCII } from "node:url";
import { isIpLiteral } from "./ip-class.js";

export type HostParse =
  | { ok: true; host: string; wildcard: boolean }
  | {
      ok: false;
      rule: "invalid-host" | "ip-literal-host" | "allow-everything";
      message: string;
      hint?: string;
    };

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Validate a host pattern and require normal form (lowercase ASCII, no trailing dot). */
export function parseHostPattern(text: string): HostParse {
  if (text === "*" || text === "*.*" || text === "**") {
    return {
      ok: false,
      rule: "allow-everything",
      message: `"${text}" allows every host`,
      hint: "list the hosts the job needs, or use network.mode: audit to find them",
    };
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(text);
  if (url) {
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}" is a URL`,
      hint: `write ${url[1]}`,
    };
  }
  const hostPort = /^([^:\s[\]]+):([0-9]+)$/.exec(text);
  if (hostPort) {
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}" has a port in the host`,
      hint: `write { host: ${hostPort[1]}, ports: [${hostPort[2]}] }`,
    };
  }
  if (isIpLiteral(text)) {
    const bare = text.replace(/^\[|\]$/g, "");
    const bits = bare.includes(":") ? 128 : 32;
    return {
      ok: false,
      rule: "ip-literal-host",
      message: `"${text}" is an IP address, not a host name`,
      hint: `write { cidr: ${bare}/${bits}, ports: [443] }`,
    };
  }
  const wildcard = text.startsWith("*.");
  const name = wildcard ? text.slice(2) : text;
  if (name.includes("*")) {
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}": a wildcard may only be the whole leftmost label`,
      hint: `write *.${name
        .split(".")
        .slice(name.split(".").findIndex((l) => l.includes("*")) + 1)
        .join(".")}`,
    };
  }
  if (name.endsWith(".")) {
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}" ends with a dot`,
      hint: `write ${text.replace(/\.+$/, "")}`,
    };
  }
  if (/[^\p{ASCII}]/u.test(name)) {
    const ascii = domainToASCII(name);
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}" is not ASCII`,
      hint: ascii ? `write ${wildcard ? "*." : ""}${ascii}` : "write the name in punycode (xn--…)",
    };
  }
  if (name !== name.toLowerCase()) {
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}" has capital letters`,
      hint: `write ${text.toLowerCase()}`,
    };
  }
  const labels = name.split(".");
  if (name.length > 253 || !labels.every((l) => LABEL.test(l))) {
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}" is not a valid DNS name`,
      hint: "use letters, digits and hyphens in dot-separated labels of up to 63 characters",
    };
  }
  if (labels.length < 2) {
    if (wildcard) {
      return {
        ok: false,
        rule: "allow-everything",
        message: `"${text}" allows every name under the top-level domain .${name}`,
        hint: `name the domain: *.example.${name}`,
      };
    }
    return {
      ok: false,
      rule: "invalid-host",
      message: `"${text}" is a single-label name${name === "localhost" ? " (loopback)" : ""}`,
      hint: "write a fully qualified name such as registry.example.com",
    };
  }
  return { ok: true, host: name, wildcard };
}

export interface HostPattern {
  readonly host: string;
  readonly wildcard: boolean;
}

/** Does pattern `p` match the concrete name `name` (already lowercase, no trailing dot)? */
export function hostMatches(p: HostPattern, name: string): boolean {
  return p.wildcard ? name.endsWith(`.${p.host}`) : name === p.host;
}

/** Does pattern `outer` match every name pattern `inner` matches? */
export function hostCovers(outer: HostPattern, inner: HostPattern): boolean {
  if (!outer.wildcard) return !inner.wildcard && inner.host === outer.host;
  return inner.host.endsWith(`.${outer.host}`) || (inner.wildcard && inner.host === outer.host);
}
