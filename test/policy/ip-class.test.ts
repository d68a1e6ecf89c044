import { describe, expect, it } from "vitest";
import {
  cidrContains,
  classesInCidr,
  classifyAddress,
  parseCidr,
} from "../../runner/policy/index.js";
import type { IpClass } from "../../runner/policy/index.js";

describe("classifyAddress", () => {
  it.each<{ name: string; address: string; expect: IpClass }>([
    // --- cloud metadata: each /32 and its neighbours ---
    { name: "AWS/GCP/Azure IMDS", address: "169.254.169.254", expect: "metadata" },
    { name: "one below IMDS is link-local", address: "169.254.169.253", expect: "link-local" },
    { name: "one above IMDS is link-local", address: "169.254.169.255", expect: "link-local" },
    { name: "Azure wireserver", address: "168.63.129.16", expect: "metadata" },
    { name: "below Azure wireserver", address: "168.63.129.15", expect: "public" },
    { name: "above Azure wireserver", address: "168.63.129.17", expect: "public" },
    { name: "Alibaba metadata", address: "100.100.100.200", expect: "metadata" },
    { name: "below Alibaba metadata is CGNAT", address: "100.100.100.199", expect: "shared" },
    { name: "above Alibaba metadata is CGNAT", address: "100.100.100.201", expect: "shared" },
    { name: "AWS IMDS over IPv6", address: "fd00:ec2::254", expect: "metadata" },
    { name: "beside AWS IMDS IPv6 is unique local", address: "fd00:ec2::253", expect: "private" },
    // --- IPv4 embedded in IPv6 is judged by the IPv4 address ---
    { name: "IPv4-mapped IMDS", address: "::ffff:169.254.169.254", expect: "metadata" },
    { name: "IPv4-mapped IMDS in hex", address: "::ffff:a9fe:a9fe", expect: "metadata" },
    { name: "IPv4-mapped loopback", address: "::ffff:127.0.0.1", expect: "loopback" },
    { name: "IPv4-mapped public", address: "::ffff:8.8.8.8", expect: "public" },
    { name: "NAT64 IMDS (RFC 6052)", address: "64:ff9b::a9fe:a9fe", expect: "metadata" },
    { name: "NAT64 public", address: "64:ff9b::808:808", expect: "public" },
    {
      name: "not NAT64: 64:ff9b:1::/48 local-use prefix",
      address: "64:ff9b:1::a9fe:a9fe",
      expect: "public",
    },
    { name: "6to4 IMDS (RFC 3056)", address: "2002:a9fe:a9fe::", expect: "metadata" },
    { name: "6to4 public", address: "2002:808:808::", expect: "public" },
    // --- 0.0.0.0/8 "this network" ---
    { name: "0.0.0.0", address: "0.0.0.0", expect: "unspecified" },
    { name: "top of 0.0.0.0/8", address: "0.255.255.255", expect: "unspecified" },
    { name: "just above 0.0.0.0/8", address: "1.0.0.0", expect: "public" },
    // --- 10.0.0.0/8 ---
    { name: "just below 10/8", address: "9.255.255.255", expect: "public" },
    { name: "bottom of 10/8", address: "10.0.0.0", expect: "private" },
    { name: "top of 10/8", address: "10.255.255.255", expect: "private" },
    { name: "just above 10/8", address: "11.0.0.0", expect: "public" },
    // --- 172.16.0.0/12 ---
    { name: "just below 172.16/12", address: "172.15.255.255", expect: "public" },
    { name: "bottom of 172.16/12", address: "172.16.0.0", expect: "private" },
    { name: "top of 172.16/12", address: "172.31.255.255", expect: "private" },
    { name: "just above 172.16/12", address: "172.32.0.0", expect: "public" },
    // --- 192.168.0.0/16 ---
    { name: "just below 192.168/16", address: "192.167.255.255", expect: "public" },
    { name: "bottom of 192.168/16", address: "192.168.0.0", expect: "private" },
    { name: "top of 192.168/16", address: "192.168.255.255", expect: "private" },
    { name: "just above 192.168/16", address: "192.169.0.0", expect: "public" },
    // --- 100.64.0.0/10 (RFC 6598) ---
    { name: "just below 100.64/10", address: "100.63.255.255", expect: "public" },
    { name: "bottom of 100.64/10", address: "100.64.0.0", expect: "shared" },
    { name: "top of 100.64/10", address: "100.127.255.255", expect: "shared" },
    { name: "just above 100.64/10", address: "100.128.0.0", expect: "public" },
    // --- 127.0.0.0/8 ---
    { name: "just below 127/8", address: "126.255.255.255", expect: "public" },
    { name: "bottom of 127/8", address: "127.0.0.0", expect: "loopback" },
    { name: "top of 127/8", address: "127.255.255.255", expect: "loopback" },
    { name: "just above 127/8", address: "128.0.0.0", expect: "public" },
    // --- 169.254.0.0/16 ---
    { name: "just below 169.254/16", address: "169.253.255.255", expect: "public" },
    { name: "bottom of 169.254/16", address: "169.254.0.0", expect: "link-local" },
    { name: "top of 169.254/16", address: "169.254.255.255", expect: "link-local" },
    { name: "just above 169.254/16", address: "169.255.0.0", expect: "public" },
    // --- 192.0.0.0/24 and 198.18.0.0/15 ---
    { name: "just below 192.0.0/24", address: "191.255.255.255", expect: "public" },
    { name: "bottom of 192.0.0/24", address: "192.0.0.0", expect: "reserved" },
    { name: "top of 192.0.0/24", address: "192.0.0.255", expect: "reserved" },
    { name: "just above 192.0.0/24", address: "192.0.1.0", expect: "public" },
    { name: "just below 198.18/15", address: "198.17.255.255", expect: "public" },
    { name: "bottom of 198.18/15", address: "198.18.0.0", expect: "reserved" },
    { name: "top of 198.18/15", address: "198.19.255.255", expect: "reserved" },
    { name: "just above 198.18/15", address: "198.20.0.0", expect: "public" },
    // --- 224.0.0.0/4 and 240.0.0.0/4 ---
    { name: "just below multicast", address: "223.255.255.255", expect: "public" },
    { name: "bottom of multicast", address: "224.0.0.0", expect: "multicast" },
    { name: "top of multicast", address: "239.255.255.255", expect: "multicast" },
    { name: "bottom of 240/4", address: "240.0.0.0", expect: "reserved" },
    { name: "broadcast", address: "255.255.255.255", expect: "reserved" },
    // --- IPv6 ---
    { name: "::", address: "::", expect: "unspecified" },
    { name: "::1", address: "::1", expect: "loopback" },
    { name: "[::1] in brackets", address: "[::1]", expect: "loopback" },
    { name: "::2 is not loopback", address: "::2", expect: "public" },
    {
      name: "just below fc00::/7",
      address: "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      expect: "public",
    },
    { name: "bottom of fc00::/7", address: "fc00::", expect: "private" },
    {
      name: "top of fc00::/7",
      address: "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      expect: "private",
    },
    { name: "just above fc00::/7", address: "fe00::", expect: "public" },
    {
      name: "just below fe80::/10",
      address: "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      expect: "public",
    },
    { name: "bottom of fe80::/10", address: "fe80::", expect: "link-local" },
    {
      name: "top of fe80::/10",
      address: "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      expect: "link-local",
    },
    { name: "just above fe80::/10", address: "fec0::", expect: "public" },
    {
      name: "just below ff00::/8",
      address: "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      expect: "public",
    },
    { name: "bottom of ff00::/8", address: "ff00::", expect: "multicast" },
    { name: "all-nodes multicast", address: "ff02::1", expect: "multicast" },
    // --- public ---
    { name: "public IPv4", address: "8.8.8.8", expect: "public" },
    { name: "public IPv6", address: "2001:4860:4860::8888", expect: "public" },
  ])("$name", ({ address, expect: cls }) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe("parseCidr", () => {
  it.each<{
    name: string;
    text: string;
    cidr?: string;
    family?: 4 | 6;
    prefix?: number;
    message?: string;
    hint?: string;
  }>([
    // --- normal form accepted ---
    { name: "IPv4 /8", text: "10.0.0.0/8", cidr: "10.0.0.0/8", family: 4, prefix: 8 },
    { name: "IPv4 /32", text: "1.2.3.4/32", cidr: "1.2.3.4/32", family: 4, prefix: 32 },
    { name: "IPv4 /0", text: "0.0.0.0/0", cidr: "0.0.0.0/0", family: 4, prefix: 0 },
    { name: "IPv6 /0", text: "::/0", cidr: "::/0", family: 6, prefix: 0 },
    {
      name: "IPv6 metadata /128",
      text: "fd00:ec2::254/128",
      cidr: "fd00:ec2::254/128",
      family: 6,
      prefix: 128,
    },
    {
      name: "IPv4-mapped keeps its dotted quad",
      text: "::ffff:169.254.169.254/128",
      cidr: "::ffff:169.254.169.254/128",
      family: 6,
      prefix: 128,
    },
    // --- host bits: one bit inside and outside the prefix ---
    {
      name: "host bit set",
      text: "10.20.0.1/16",
      message: "has host bits set",
      hint: "write 10.20.0.0/16",
    },
    {
      name: "last network bit set is fine",
      text: "10.1.0.0/16",
      cidr: "10.1.0.0/16",
      family: 4,
      prefix: 16,
    },
    {
      name: "first host bit of a /15 set",
      text: "10.1.0.0/15",
      message: "has host bits set",
      hint: "write 10.0.0.0/15",
    },
    // --- not normal form ---
    {
      name: "uppercase IPv6",
      text: "2001:DB8::/32",
      message: "is not in normal form",
      hint: "write 2001:db8::/32",
    },
    {
      name: "zero-padded IPv6 group",
      text: "2001:0db8::/32",
      message: "is not in normal form",
      hint: "write 2001:db8::/32",
    },
    {
      name: "uncompressed zero group",
      text: "2001:db8:0::/48",
      message: "is not in normal form",
      hint: "write 2001:db8::/48",
    },
    {
      name: "IPv4-mapped in hex",
      text: "::ffff:a9fe:a9fe/128",
      message: "is not in normal form",
      hint: "write ::ffff:169.254.169.254/128",
    },
    {
      name: "zero-padded prefix",
      text: "10.0.0.0/08",
      message: "is not in normal form",
      hint: "write 10.0.0.0/8",
    },
    {
      name: "hex octet",
      text: "0xa.0.0.0/8",
      message: "is not in normal form",
      hint: "write 10.0.0.0/8",
    },
    {
      name: "one 32-bit number",
      text: "167772160/8",
      message: "is not in normal form",
      hint: "write 10.0.0.0/8",
    },
    // --- octal-looking octets ---
    {
      name: "zero-padded first octet",
      text: "010.0.0.0/8",
      message: "has a zero-padded number, which some tools read as octal",
      hint: "write 10.0.0.0/8",
    },
    {
      name: "zero-padded last octet",
      text: "10.0.0.01/32",
      message: "has a zero-padded number, which some tools read as octal",
      hint: "write 10.0.0.1/32",
    },
    {
      name: "zero-padded, no prefix",
      text: "010.0.0.1",
      message: "has a zero-padded number, which some tools read as octal",
      hint: "write 10.0.0.1/32",
    },
    // --- missing prefix ---
    {
      name: "IPv4 without prefix",
      text: "203.0.113.7",
      message: "has no prefix length",
      hint: "write 203.0.113.7/32",
    },
    {
      name: "IPv6 without prefix",
      text: "2001:db8::7",
      message: "has no prefix length",
      hint: "write 2001:db8::7/128",
    },
    // --- garbage ---
    {
      name: "IPv4 /33",
      text: "10.0.0.0/33",
      message: "is not an IPv4 or IPv6 CIDR",
      hint: "write e.g. 10.20.0.0/16",
    },
    {
      name: "IPv6 /129",
      text: "::/129",
      message: "is not an IPv4 or IPv6 CIDR",
      hint: "write e.g. 10.20.0.0/16",
    },
    {
      name: "negative prefix",
      text: "10.0.0.0/-1",
      message: "is not an IPv4 or IPv6 CIDR",
      hint: "write e.g. 10.20.0.0/16",
    },
    {
      name: "trailing space",
      text: "10.0.0.0/8 ",
      message: "is not an IPv4 or IPv6 CIDR",
      hint: "write e.g. 10.20.0.0/16",
    },
    {
      name: "brackets",
      text: "[::1]/128",
      message: "is not an IPv4 or IPv6 CIDR",
      hint: "write e.g. 10.20.0.0/16",
    },
    {
      name: "a name",
      text: "example.com/24",
      message: "is not an IPv4 or IPv6 CIDR",
      hint: "write e.g. 10.20.0.0/16",
    },
    {
      name: "empty",
      text: "",
      message: "is not an IPv4 or IPv6 CIDR",
      hint: "write e.g. 10.20.0.0/16",
    },
  ])("$name", ({ text, cidr, family, prefix, message, hint }) => {
    const result = parseCidr(text);
    if (cidr !== undefined) expect(result).toEqual({ ok: true, cidr, family, prefix });
    else expect(result).toEqual({ ok: false, message, hint });
  });
});

describe("cidrContains", () => {
  it.each([
    // --- nesting ---
    { name: "a /16 inside its /8", outer: "10.0.0.0/8", inner: "10.1.0.0/16", expect: true },
    { name: "a /8 is not inside a /16", outer: "10.1.0.0/16", inner: "10.0.0.0/8", expect: false },
    { name: "equal networks", outer: "10.0.0.0/8", inner: "10.0.0.0/8", expect: true },
    { name: "adjacent networks", outer: "10.0.0.0/8", inner: "11.0.0.0/8", expect: false },
    // --- boundary addresses ---
    {
      name: "last address inside",
      outer: "192.168.0.0/16",
      inner: "192.168.255.255/32",
      expect: true,
    },
    {
      name: "first address outside",
      outer: "192.168.0.0/16",
      inner: "192.169.0.0/32",
      expect: false,
    },
    // --- families ---
    { name: "IPv4 /0 does not contain IPv6", outer: "0.0.0.0/0", inner: "::/0", expect: false },
    { name: "IPv6 /0 does not contain IPv4", outer: "::/0", inner: "0.0.0.0/0", expect: false },
    { name: "IPv6 nesting", outer: "2001:db8::/32", inner: "2001:db8:1::/48", expect: true },
    // --- IPv4 embedded in IPv6 ---
    {
      name: "mapped IMDS inside 169.254/16",
      outer: "169.254.0.0/16",
      inner: "::ffff:169.254.169.254/128",
      expect: true,
    },
    {
      name: "8.8.8.8 inside the mapped /96",
      outer: "::ffff:0.0.0.0/96",
      inner: "8.8.8.8/32",
      expect: true,
    },
  ])("$name", ({ outer, inner, expect: contains }) => {
    expect(cidrContains(outer, inner)).toBe(contains);
  });
});

describe("classesInCidr", () => {
  it.each<{ name: string; cidr: string; expect: IpClass[] }>([
    // --- public ---
    { name: "a public /24", cidr: "8.8.8.0/24", expect: [] },
    { name: "1.0.0.0/8, just above 0/8", cidr: "1.0.0.0/8", expect: [] },
    { name: "6to4 of a public address", cidr: "2002:808:808::/48", expect: [] },
    // --- private, exactly and by overlap ---
    { name: "10.0.0.0/8", cidr: "10.0.0.0/8", expect: ["private"] },
    { name: "8.0.0.0/6 overlaps 10/8", cidr: "8.0.0.0/6", expect: ["private"] },
    { name: "172.0.0.0/8 overlaps 172.16/12", cidr: "172.0.0.0/8", expect: ["private"] },
    { name: "192.0.0.0/8", cidr: "192.0.0.0/8", expect: ["private", "reserved"] },
    // --- metadata inside wider ranges ---
    {
      name: "100.64.0.0/10 holds Alibaba metadata",
      cidr: "100.64.0.0/10",
      expect: ["metadata", "shared"],
    },
    {
      name: "169.254.0.0/16 holds IMDS",
      cidr: "169.254.0.0/16",
      expect: ["metadata", "link-local"],
    },
    { name: "the Alibaba /32 itself", cidr: "100.100.100.200/32", expect: ["metadata", "shared"] },
    { name: "96.0.0.0/3", cidr: "96.0.0.0/3", expect: ["metadata", "shared", "loopback"] },
    // --- IPv6 ---
    { name: "::/128", cidr: "::/128", expect: ["unspecified"] },
    { name: "::/127 holds ::1", cidr: "::/127", expect: ["unspecified", "loopback"] },
    { name: "fd00::/8 holds AWS IMDS v6", cidr: "fd00::/8", expect: ["metadata", "private"] },
    {
      name: "2000::/3 contains 6to4 and so all IPv4",
      cidr: "2000::/3",
      expect: [
        "metadata",
        "unspecified",
        "private",
        "shared",
        "loopback",
        "link-local",
        "reserved",
        "multicast",
      ],
    },
    // --- IPv4 embedded in IPv6 ---
    { name: "mapped IMDS", cidr: "::ffff:169.254.169.254/128", expect: ["metadata", "link-local"] },
    {
      name: "NAT64 /96 reaches all IPv4",
      cidr: "64:ff9b::/96",
      expect: [
        "metadata",
        "unspecified",
        "private",
        "shared",
        "loopback",
        "link-local",
        "reserved",
        "multicast",
      ],
    },
    {
      name: "6to4 /16 reaches all IPv4",
      cidr: "2002::/16",
      expect: [
        "metadata",
        "unspecified",
        "private",
        "shared",
        "loopback",
        "link-local",
        "reserved",
        "multicast",
      ],
    },
    { name: "6to4 of IMDS", cidr: "2002:a9fe:a9fe::/48", expect: ["metadata", "link-local"] },
    { name: "6to4 of 169.254/16", cidr: "2002:a9fe::/32", expect: ["metadata", "link-local"] },
  ])("$name", ({ cidr, expect: classes }) => {
    expect(classesInCidr(cidr)).toEqual(classes);
  });
});
